// Example 7 in a real Node-RED: callback out delivers a flow's result, and a Catch node reports a
// failure of the flow to the same webhook.
import assert from "node:assert/strict";
import { checkCallbackPayload, type CallbackPayload } from "../../nodes/lib/shared/payload";
import { DebugWatcher, Receiver, describeExample, nodeOfType, pressInject, waitUntil } from "./support";

const FILE = "07 - Send a result with callback out and report failures.json";

const receiver = new Receiver(() => ({ status: 200, body: JSON.stringify({ received: true }) }));
const watcher = new DebugWatcher();

// No secret: deployed as imported, this example needs no credentials.
describeExample(FILE, {
  beforeStart: () => receiver.start(),
  env: () => ({ AGENT_CALLBACK_URL: `${receiver.url}/agent-results`, AGENT_CALLBACK_SECRET: "seven-secret" }),
  watcher,
  afterStop: () => receiver.stop(),
}, (example) => {
  function received(): CallbackPayload[] {
    return receiver.requests.map((r) => {
      const checked = checkCallbackPayload(JSON.parse(r.body));
      assert.ok(checked.ok, `the receiver got an invalid payload: ${r.body}`);
      return checked.payload;
    });
  }

  it("delivers the flow's result as a completed callback, with the header from the environment", async () => {
    await pressInject(example.red, nodeOfType(example.nodes, "inject", "run the report").id);
    await waitUntil(() => receiver.requests.length >= 1, "the callback", 30_000, () => example.red.log);
    const request = receiver.requests[0];
    assert.equal(request?.method, "POST");
    assert.equal(request?.url, "/agent-results");
    assert.equal(request?.headers["x-webhook-secret"], "seven-secret");
    assert.match(String(request?.headers["content-type"]), /^application\/json/);
    const payload = received()[0];
    assert.equal(payload?.status, "completed");
    assert.equal(payload?.agent_loop_id, "loop_daily_report");
    assert.equal(payload?.agent_loop_name, "Daily Sales Report");
    assert.match(payload?.result?.output ?? "", /^Sales Report for \d{4}-\d\d-\d\d\n\nTotal Revenue: \$12,450$/);
    assert.equal(payload?.error, null);
    assert.match(payload?.execution_id ?? "", /^exec_/);
    // The "delivered" debug shows the receiver's reply.
    await waitUntil(() => watcher.from("delivered").length >= 1, "the delivered debug message", 30_000);
    const delivered = watcher.from("delivered")[0] as { statusCode: number; payload: unknown };
    assert.equal(delivered.statusCode, 200);
    assert.deepEqual(delivered.payload, { received: true });
  });

  it("reports a failure of the flow through the catch node as a failed callback", async () => {
    await pressInject(example.red, nodeOfType(example.nodes, "inject", "run it and fail").id);
    await waitUntil(() => receiver.requests.length >= 2, "the failure callback", 30_000, () => example.red.log);
    const payload = received()[1];
    assert.equal(payload?.status, "failed");
    assert.equal(payload?.error, "Tool call failed: HTTP 500 from API");
    assert.equal(payload?.result, null);
    assert.equal(payload?.agent_loop_id, "loop_daily_report");
    assert.equal(receiver.requests[1]?.headers["x-webhook-secret"], "seven-secret");
    assert.notEqual(payload?.execution_id, received()[0]?.execution_id);
    await waitUntil(() => watcher.from("delivered").length >= 2, "the second delivered debug message", 30_000);
    assert.equal(watcher.from("gave up").length, 0);
  });
});
