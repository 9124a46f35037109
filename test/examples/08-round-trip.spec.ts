// Example 8 in a real Node-RED: deployed exactly as imported (no credentials, nothing typed), the
// inject button sends a result through callback out to callback in on the same Node-RED.
import assert from "node:assert/strict";
import { DebugWatcher, describeExample, nodeOfType, pressInject, waitUntil } from "./support";

const FILE = "08 - Round trip - callback out to callback in.json";

const watcher = new DebugWatcher();

// No secret: deployed as imported.
describeExample(FILE, {
  // The example assumes http://127.0.0.1:1880; the test's Node-RED listens on a free port, which
  // the example takes from NODE_RED_BASE_URL, as its comment tells users to do.
  env: (port) => ({ NODE_RED_BASE_URL: `http://127.0.0.1:${port}` }),
  watcher,
}, (example) => {
  it("ships no credentials", () => {
    for (const node of example.nodes) assert.equal(node.credentials, undefined, `${node.type} ${node.id}`);
  });

  it("routes the injected result to callback in's completed output, and callback out reports it delivered", async () => {
    await pressInject(example.red, nodeOfType(example.nodes, "inject", "send a result").id);
    await waitUntil(() => watcher.from("completed").length >= 1, "the completed debug message", 30_000, () => example.red.log);
    const arrived = watcher.from("completed")[0] as Record<string, unknown>;
    assert.equal(arrived.status, "completed");
    assert.equal(arrived.agent_loop_id, "loop_round_trip");
    assert.equal(arrived.agent_loop_name, "Round trip demo");
    assert.deepEqual((arrived.result as Record<string, unknown>).output, "Round trip works: the report arrived.");
    assert.match(String(arrived.execution_id), /^exec_/);

    await waitUntil(() => watcher.from("delivered").length >= 1, "the delivered debug message", 30_000);
    const delivered = watcher.from("delivered")[0] as { statusCode: number; payload: unknown; callback: { execution_id: string } };
    assert.equal(delivered.statusCode, 200);
    assert.deepEqual(delivered.payload, { received: true });
    assert.equal(delivered.callback.execution_id, arrived.execution_id);
    assert.equal(watcher.from("failed").length, 0);
    assert.equal(watcher.from("timeout").length, 0);
    assert.equal(watcher.from("gave up").length, 0);
  });
});
