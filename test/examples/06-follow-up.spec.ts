// Example 6 in a real Node-RED: an output that reports an ERROR starts the incident workflow.
import assert from "node:assert/strict";
import { DebugWatcher, Receiver, completedPayload, describeExample, failedPayload, timeoutPayload, waitUntil } from "./support";

const FILE = "06 - Start a follow-up workflow when the output reports an ERROR.json";

const incidents = new Receiver(() => ({ status: 201, body: JSON.stringify({ incident: "INC-1" }) }));
const watcher = new DebugWatcher();

describeExample(FILE, {
  secret: "follow-up-example-secret",
  beforeStart: () => incidents.start(),
  env: () => ({ INCIDENT_WEBHOOK_URL: `${incidents.url}/incidents` }),
  watcher,
  afterStop: () => incidents.stop(),
}, (example) => {
  it("opens an incident for each result whose output reports an ERROR, and only for those", async () => {
    const clean = completedPayload("exec_clean");
    const withError = completedPayload("exec_error");
    withError.result = { output: "Checked 12 services.\nERROR: payments API returned 503", iterations_used: 3, tool_calls: 2 };
    const partialError = timeoutPayload("exec_timeout_error");
    partialError.result = { output: "Partial: ERROR while reading the ledger", iterations_used: 9, tool_calls: 4 };
    const failed = failedPayload("exec_failed_no_output");

    for (const payload of [clean, withError, failed, partialError, timeoutPayload("exec_timeout_clean")]) {
      const reply = await example.post(payload);
      assert.equal(reply.status, 200);
    }
    await waitUntil(() => incidents.requests.length >= 2, "2 incidents", 30_000, () => example.red.log);
    // The workflow's last step shows the incident system's reply in the debug sidebar.
    await waitUntil(() => watcher.from("incident system reply").length >= 2, "2 replies in the debug sidebar", 30_000);

    const bodies = incidents.requests.map((r) => JSON.parse(r.body) as Record<string, unknown>);
    bodies.sort((a, b) => String(a.execution_id).localeCompare(String(b.execution_id)));
    assert.deepEqual(bodies, [
      {
        title: "Agent Loop Error Detected",
        description: "Checked 12 services.\nERROR: payments API returned 503",
        agent_loop_id: "loop_abc123",
        agent_loop_name: "Daily Sales Report",
        execution_id: "exec_error",
      },
      {
        title: "Agent Loop Error Detected",
        description: "Partial: ERROR while reading the ledger",
        agent_loop_id: "loop_abc123",
        agent_loop_name: "Daily Sales Report",
        execution_id: "exec_timeout_error",
      },
    ]);
    for (const r of incidents.requests) {
      assert.equal(r.method, "POST");
      assert.equal(r.url, "/incidents");
      assert.match(String(r.headers["content-type"]), /^application\/json/);
    }
    const replies = watcher.from("incident system reply") as { statusCode: number; payload: string }[];
    assert.deepEqual(replies.map((m) => m.statusCode), [201, 201]);
    assert.equal(incidents.requests.length, 2);
  });
});
