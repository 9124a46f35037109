// Example 1 in a real Node-RED: each status arrives at its own labelled debug node.
import assert from "node:assert/strict";
import { DebugWatcher, completedPayload, describeExample, failedPayload, timeoutPayload, waitUntil } from "./support";

const FILE = "01 - Receive agent results and route them by status.json";
const watcher = new DebugWatcher();

describeExample(FILE, { secret: "route-example-secret", watcher }, (example) => {
  it("is one callback in at /agent-results (verify secret), a debug node per output named after it, and a comment", () => {
    const flow = example.nodes;
    assert.ok(Array.isArray(flow));
    const ins = flow.filter((n) => n.type === "agent-callback-in");
    assert.equal(ins.length, 1);
    assert.equal(ins[0]?.url, "/agent-results");
    assert.equal(ins[0]?.verify, "secret");
    assert.equal(ins[0]?.credentials, undefined, "examples carry no secrets");
    const names = (ins[0]?.wires ?? []).map((ids) => ids.map((id) => flow.find((n) => n.id === id)));
    assert.deepEqual(
      names.map((nodes) => nodes.map((n) => `${n?.type}:${n?.name}`)),
      [["debug:completed"], ["debug:failed"], ["debug:timeout"]],
    );
    assert.ok(flow.some((n) => n.type === "comment" && String(n.info).includes("X-Webhook-Secret")));
  });

  it("shows each result in the debug node of its status, with the whole body as payload", async () => {
    const completed = { ...completedPayload(), extra_field: { kept: true } };
    for (const payload of [completed, failedPayload(), timeoutPayload()]) {
      const reply = await example.post(payload);
      assert.equal(reply.status, 200);
      assert.deepEqual(reply.body, { received: true });
    }
    await waitUntil(
      () => ["completed", "failed", "timeout"].every((name) => watcher.from(name).length >= 1),
      "one message in each debug node",
      30_000,
      () => example.red.log,
    );
    const shown = (name: string) => watcher.from(name) as { payload: unknown; topic: unknown }[];
    assert.deepEqual(shown("completed").map((m) => m.payload), [completed]);
    assert.deepEqual(shown("failed").map((m) => m.payload), [failedPayload()]);
    assert.deepEqual(shown("timeout").map((m) => m.payload), [timeoutPayload()]);
    assert.equal(shown("completed")[0]?.topic, "Daily Sales Report");
  });

  it("refuses a callback without the secret and shows nothing", async () => {
    const before = watcher.messages.length;
    const reply = await example.post(completedPayload("exec_no_secret"), { secret: null });
    assert.equal(reply.status, 401);
    assert.deepEqual(reply.body, { error: "Unauthorized" });
    // A later accepted callback shows up; the refused one never did.
    await example.post(completedPayload("exec_after"));
    await waitUntil(() => watcher.from("completed").length >= 2, "the accepted callback", 30_000);
    const ids = watcher.messages.slice(before).map((m) => m.msg);
    assert.ok(ids.every((m) => !m.includes("exec_no_secret")));
  });

  // Runs last: the tests above count what each debug node has shown.
  it("routes each status to its labelled debug node once a secret is set", async () => {
    const before = watcher.messages.length;
    for (const status of ["completed", "failed", "timeout"]) {
      const reply = await example.post({
        agent_loop_id: "loop_abc123",
        agent_loop_name: "Daily Sales Report",
        execution_id: `exec_${status}`,
        status,
      });
      assert.equal(reply.status, 200, JSON.stringify(reply.body));
    }
    const got = (): string[] =>
      watcher.messages
        .slice(before)
        .map((m) => `${m.name}:${(JSON.parse(m.msg) as { payload?: { execution_id?: string } }).payload?.execution_id}`);
    await waitUntil(() => got().length >= 3, "three debug messages", 20_000, () => example.red.log);
    assert.deepEqual(got().sort(), ["completed:exec_completed", "failed:exec_failed", "timeout:exec_timeout"]);
  });
});
