// Import > Examples in a real browser: every example of the package is listed, imports without
// unknown or invalid nodes, and the round trip works once deployed from the editor.
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { freePort, nodeRedVersion } from "../support/node-red";
import { loadExample, nodeOfType } from "../examples/support";
import { deploy, exampleFiles, importExample, openExamples, screenshot, startEditorNodeRed, useEditor, forDocs } from "./support";

const files = exampleFiles();

/** Waits until every notification has gone, so a screenshot shows the flow alone. */
async function quietScreenshot(page: Page, name: string): Promise<void> {
  await page.mouse.move(500, 650);
  await page.locator(".red-ui-notification").last().waitFor({ state: "hidden" });
  await screenshot(page, name);
}

describe(`editor on Node-RED ${nodeRedVersion()}: Import > Examples`, function () {
  const editor = useEditor(async () => {
    const port = await freePort();
    // Example 8 calls this Node-RED at NODE_RED_BASE_URL (default http://127.0.0.1:1880).
    return startEditorNodeRed({ NODE_RED_BASE_URL: `http://127.0.0.1:${port}` }, port);
  });

  it("lists every example of the package", async () => {
    const { page } = editor.browser;
    const listed = await openExamples(page);
    assert.deepEqual(
      listed,
      files.map((f) => f.replace(/\.json$/, "")),
    );
    assert.equal(listed.length, 11);
    forDocs(
      await screenshot(page, "import-examples", { locator: ".ui-dialog:has(#red-ui-clipboard-dialog-import-tabs)" }),
      "import-examples",
    );
    await page.locator("#red-ui-clipboard-dialog-cancel").click();
    await page.locator("#red-ui-clipboard-dialog-ok").waitFor({ state: "hidden" });
  });

  it("imports the round trip, deploys it from the editor, and its inject button delivers a result to callback in", async () => {
    const { page } = editor.browser;
    const file = files.find((f) => f.startsWith("08 - ")) as string;
    const nodes = await importExample(page, file);
    assert.deepEqual(
      nodes.filter((n) => !n.valid),
      [],
    );
    await deploy(page);
    const inject = nodeOfType(loadExample(file), "inject");
    const injectId = nodes.find((n) => n.id === inject.id)?.id ?? nodes.find((n) => n.type === "inject")?.id;
    await page.evaluate(`RED.actions.invoke("core:show-debug-tab")`);
    await page.locator(`g.red-ui-flow-node-group[id="${injectId}"] .red-ui-flow-node-button`).click();
    const arrived = page.locator(".red-ui-debug-msg", { hasText: "completed" }).filter({ hasText: "loop_round_trip" });
    await arrived.first().waitFor();
    const delivered = page.locator(".red-ui-debug-msg", { hasText: "delivered" }).filter({ hasText: "statusCode" });
    await delivered.first().waitFor();
    await quietScreenshot(page, "example-round-trip");
    // Remove it again (and deploy that), so importing it below is a fresh import, not a conflict.
    await page.locator("#red-ui-workspace-chart").click({ position: { x: 700, y: 500 } });
    await page.keyboard.press("Control+a");
    await page.keyboard.press("Delete");
    await deploy(page);
    assert.equal(await page.evaluate(`RED.nodes.filterNodes({ type: "agent-callback-out" }).length`), 0);
  });

  it("example 01 deployed: each debug node's status stands clear of the other nodes", async () => {
    const { page } = editor.browser;
    const file = files.find((f) => f.startsWith("01 - ")) as string;
    // The last deploy's notification must be gone, or deploy() below would take it for this one.
    await page.locator(".red-ui-notification", { hasText: "Successfully deployed" }).waitFor({ state: "hidden" });
    const nodes = await importExample(page, file);
    await deploy(page);
    const callbackIn = nodes.find((n) => n.type === "agent-callback-in")?.id as string;
    for (const status of ["completed", "failed", "timeout"]) {
      const res = await fetch(`${editor.red.url}/agent-callback/in/${callbackIn}/simulate`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ status }),
      });
      assert.equal(res.status, 200);
    }
    const debugIds = nodes.filter((n) => n.type === "debug").map((n) => n.id);
    const box = async (selector: string) => {
      const found = await page.locator(selector).boundingBox();
      if (!found) throw new Error(`${selector} is not shown`);
      return found;
    };
    type Box = { x: number; y: number; width: number; height: number };
    const overlap = (a: Box, b: Box) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
    for (const id of debugIds) {
      const label = page.locator(`g.red-ui-flow-node-group[id="${id}"] .red-ui-flow-node-status-label`);
      await page.waitForFunction(
        `(document.querySelector('g.red-ui-flow-node-group[id="${id}"] .red-ui-flow-node-status-label')?.textContent || "").startsWith("exec_")`,
      );
      const status = await box(`g.red-ui-flow-node-group[id="${id}"] .red-ui-flow-node-status-group`);
      for (const other of nodes.filter((n) => n.id !== id && n.type !== "comment")) {
        const rect = await box(`g.red-ui-flow-node-group[id="${other.id}"] rect.red-ui-flow-node`);
        assert.ok(!overlap(status, rect), `the status "${await label.textContent()}" of ${id} covers node ${other.id}`);
      }
    }
    await quietScreenshot(page, "example-01-statuses");
    // Remove it again (and deploy that), so importing it below is a fresh import, not a conflict.
    await page.locator("#red-ui-workspace-chart").click({ position: { x: 700, y: 500 } });
    await page.keyboard.press("Control+a");
    await page.keyboard.press("Delete");
    await deploy(page);
  });

  for (const file of files) {
    it(`imports "${file}" without unknown or invalid nodes`, async () => {
      const { page } = editor.browser;
      const expected = loadExample(file).filter((n) => n.z);
      const nodes = await importExample(page, file);
      assert.deepEqual(nodes.map((n) => n.type).sort(), expected.map((n) => n.type).sort());
      assert.deepEqual(await page.evaluate(`RED.nodes.filterNodes({ type: "unknown" }).length`), 0);
      assert.equal(await page.locator(".red-ui-notification", { hasText: /unrecogni[sz]ed|unknown/i }).count(), 0);
      assert.deepEqual(
        nodes.filter((n) => !n.valid).map((n) => `${n.type}: ${n.validationErrors.join(", ")}`),
        [],
      );
      await quietScreenshot(page, `example-${file.slice(0, 2)}`);
    });
  }
});
