import assert from "node:assert/strict";
import { runInNewContext } from "node:vm";
import { formatCallback, newExecutionId } from "../../../nodes/lib/send/format";
import { checkCallbackPayload, samplePayload } from "../../../nodes/lib/shared/payload";

const defaults = { agentLoopId: "loop_node", agentLoopName: "Node name" };
const now = new Date("2024-01-15T10:02:30.000Z");
const fixedId = (): string => "exec_fixed";

function ok(result: ReturnType<typeof formatCallback>): { payload: Record<string, unknown>; body: string } {
  if (!result.ok) throw new Error(`expected a valid payload: ${result.error}`);
  return { payload: result.payload as Record<string, unknown>, body: result.body };
}

describe("lib/format", () => {
  it("wraps a string output as a completed run with every top-level field present", () => {
    const { payload, body } = ok(formatCallback({ payload: "Report text" }, defaults, now, fixedId));
    assert.deepEqual(payload, {
      agent_loop_id: "loop_node",
      agent_loop_name: "Node name",
      execution_id: "exec_fixed",
      status: "completed",
      result: { output: "Report text", iterations_used: null, tool_calls: null },
      metadata: {
        started_at: null,
        completed_at: "2024-01-15T10:02:30.000Z",
        duration_seconds: null,
        model: null,
        tokens_used: null,
      },
      error: null,
    });
    assert.equal(body, JSON.stringify(payload));
    assert.deepEqual(Object.keys(payload), ["agent_loop_id", "agent_loop_name", "execution_id", "status", "result", "metadata", "error"]);
  });

  it("serialises a non-payload object, number or array output as JSON", () => {
    assert.equal((ok(formatCallback({ payload: { total: 5 } }, defaults, now)).payload.result as { output: string }).output, '{"total":5}');
    assert.equal((ok(formatCallback({ payload: 42 }, defaults, now)).payload.result as { output: string }).output, "42");
    assert.equal((ok(formatCallback({ payload: [1, "a"] }, defaults, now)).payload.result as { output: string }).output, '[1,"a"]');
    assert.equal((ok(formatCallback({ payload: undefined }, defaults, now)).payload.result as { output: unknown }).output, null);
  });

  it("uses a payload-shaped object as given, filling in only what is missing", () => {
    const given = {
      status: "timeout",
      result: { output: "Partial result...", iterations_used: 3 },
      error: "Execution timeout after 300 seconds",
      metadata: { started_at: "2024-01-15T10:00:00Z", model: "gpt-4", tokens_used: 1250 },
      custom: { kept: true },
    };
    const { payload } = ok(formatCallback({ payload: given }, defaults, now, fixedId));
    assert.deepEqual(payload, {
      agent_loop_id: "loop_node",
      agent_loop_name: "Node name",
      execution_id: "exec_fixed",
      status: "timeout",
      result: { output: "Partial result...", iterations_used: 3 },
      metadata: {
        started_at: "2024-01-15T10:00:00Z",
        completed_at: "2024-01-15T10:02:30.000Z",
        duration_seconds: 150,
        model: "gpt-4",
        tokens_used: 1250,
      },
      error: "Execution timeout after 300 seconds",
      custom: { kept: true },
    });
  });

  it("uses a payload built in another realm (as a Function node's sandbox makes it) as given", () => {
    const made = runInNewContext(
      `({ payload: { agent_loop_id: "loop_fn", execution_id: "exec_fn_1", status: "failed", error: "boom",
          metadata: { started_at: new Date("2024-01-15T10:00:00Z") } } })`,
    ) as Record<string, unknown>;
    const { payload } = ok(formatCallback(made, defaults, now, fixedId));
    assert.equal(payload.status, "failed");
    assert.equal(payload.agent_loop_id, "loop_fn");
    assert.equal(payload.execution_id, "exec_fn_1");
    assert.equal(payload.error, "boom");
    assert.deepEqual(payload.result, null);
    assert.equal((payload.metadata as Record<string, unknown>).duration_seconds, 150);
  });

  it("sends the seed's sample exactly as given", () => {
    const sample = samplePayload();
    const { payload, body } = ok(formatCallback({ payload: sample }, defaults, now));
    assert.deepEqual(payload, sample);
    assert.equal(body, JSON.stringify(sample));
  });

  it("turns a Catch node's msg.error into a failed run", () => {
    const { payload } = ok(
      formatCallback(
        { payload: "ignored", error: { message: "Tool call failed: HTTP 500 from API", source: { id: "n1" } } },
        defaults,
        now,
      ),
    );
    assert.equal(payload.status, "failed");
    assert.equal(payload.result, null);
    assert.equal(payload.error, "Tool call failed: HTTP 500 from API");
    assert.equal(ok(formatCallback({ error: "plain" }, defaults, now)).payload.error, "plain");
  });

  it("takes duration from msg.started_at when the payload is not payload-shaped", () => {
    const { payload } = ok(formatCallback({ payload: "x", started_at: "2024-01-15T10:02:00.500Z" }, defaults, now));
    const metadata = payload.metadata as Record<string, unknown>;
    assert.equal(metadata.started_at, "2024-01-15T10:02:00.500Z");
    assert.equal(metadata.duration_seconds, 29.5);
  });

  it("generates a fresh exec_ id per msg and keeps a given one", () => {
    const a = ok(formatCallback({ payload: "a" }, defaults, now)).payload.execution_id;
    const b = ok(formatCallback({ payload: "b" }, defaults, now)).payload.execution_id;
    assert.match(String(a), /^exec_[0-9a-f]{20}$/);
    assert.notEqual(a, b);
    assert.match(newExecutionId(), /^exec_/);
    assert.equal(ok(formatCallback({ payload: { execution_id: "exec_mine" } }, defaults, now)).payload.execution_id, "exec_mine");
  });

  it("names the field when the payload cannot be valid, and the result passes the shared schema otherwise", () => {
    const noId = formatCallback({ payload: "x" }, { agentLoopId: "", agentLoopName: "" }, now);
    assert.equal(noId.ok, false);
    if (!noId.ok) assert.equal(noId.field, "agent_loop_id");
    const badStatus = formatCallback({ payload: { status: "done" } }, defaults, now);
    assert.equal(badStatus.ok, false);
    if (!badStatus.ok) assert.match(badStatus.error, /^status: expected one of completed, failed, timeout/);
    const badTokens = formatCallback({ payload: { status: "completed", metadata: { tokens_used: -1 } } }, defaults, now);
    assert.equal(badTokens.ok, false);
    if (!badTokens.ok) assert.equal(badTokens.field, "metadata.tokens_used");
    const good = ok(formatCallback({ payload: { status: "completed" } }, defaults, now));
    assert.equal(checkCallbackPayload(JSON.parse(good.body)).ok, true);
    assert.equal(good.payload.agent_loop_name, "Node name");
    assert.equal(ok(formatCallback({ payload: "x" }, { agentLoopId: "l", agentLoopName: "" }, now)).payload.agent_loop_name, null);
  });
});
