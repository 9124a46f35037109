// Example 5 in a real Node-RED: reports are appended to a file, which the test reads back.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { completedPayload, describeExample, failedPayload, timeoutPayload, waitUntil } from "./support";

const FILE = "05 - Append reports to a file.json";

const dir = mkdtempSync(path.join(tmpdir(), "agent-reports-"));
// A folder that does not exist yet: the example creates it.
const reportFile = path.join(dir, "reports", "agent_reports.txt");

describeExample(FILE, {
  secret: "file-example-secret",
  env: () => ({ AGENT_REPORTS_FILE: reportFile }),
  afterStop: () => rmSync(dir, { recursive: true, force: true }),
}, (example) => {
  it("appends one report per result, in arrival order", async () => {
    const expected = [
      "\n=== Daily Sales Report (completed, exec_completed_1) ===\nSales Report for January 15, 2024 \n\n Total Revenue: $12,450...\n",
      "\n=== Daily Sales Report (failed, exec_failed_1) ===\nTool call failed: HTTP 500 from API\n",
      "\n=== Daily Sales Report (timeout, exec_timeout_1) ===\nExecution timeout after 300 seconds\nPartial result...\n",
    ];
    let written = "";
    const payloads = [completedPayload(), failedPayload(), timeoutPayload()];
    for (const [i, payload] of payloads.entries()) {
      const reply = await example.post(payload);
      assert.equal(reply.status, 200);
      // Wait for each append so the order in the file is the order of arrival.
      const want = expected.slice(0, i + 1).join("");
      await waitUntil(() => existsSync(reportFile) && (written = readFileSync(reportFile, "utf8")).length >= want.length, `report ${i + 1}`, 30_000, () => example.red.log);
    }
    assert.equal(written, expected.join(""));
  });

  it("does not append a rejected callback", async () => {
    const before = readFileSync(reportFile, "utf8");
    const reply = await example.post(completedPayload("exec_rejected"), { secret: "wrong" });
    assert.equal(reply.status, 401);
    // A later accepted callback is appended right after the previous one, with nothing in between.
    const ok = await example.post(completedPayload("exec_after"));
    assert.equal(ok.status, 200);
    await waitUntil(() => readFileSync(reportFile, "utf8").length > before.length, "the next report", 30_000);
    const added = readFileSync(reportFile, "utf8").slice(before.length);
    assert.match(added, /^\n=== Daily Sales Report \(completed, exec_after\) ===\n/);
    assert.doesNotMatch(added, /exec_rejected/);
  });
});
