import assert from "node:assert/strict";
import { checkCallbackPayload, samplePayload } from "../../../nodes/lib/shared/payload";

describe("lib/payload", () => {
  it("accepts the seed's sample payload unchanged", () => {
    const sample = samplePayload();
    const check = checkCallbackPayload(JSON.parse(JSON.stringify(sample)));
    assert.equal(check.ok, true);
    assert.deepEqual(check.ok && check.payload, sample);
  });

  it("accepts the seed's failed and timeout shapes", () => {
    const failed = { agent_loop_id: "l", execution_id: "e", status: "failed", result: null, error: "Tool call failed: HTTP 500 from API" };
    const timeout = {
      agent_loop_id: "l",
      execution_id: "e",
      status: "timeout",
      result: { output: "Partial result..." },
      error: "Execution timeout after 300 seconds",
    };
    assert.equal(checkCallbackPayload(failed).ok, true);
    assert.equal(checkCallbackPayload(timeout).ok, true);
  });

  it("keeps unknown fields at every level", () => {
    const body = { ...samplePayload(), extra: { a: 1 }, result: { output: "x", foo: "bar" }, metadata: { model: null, cost: 0.1 } };
    const check = checkCallbackPayload(body);
    assert.ok(check.ok);
    assert.deepEqual(check.payload, body);
  });

  it("accepts null wherever a sender may not know the value", () => {
    const body = {
      agent_loop_id: "l",
      execution_id: "e",
      status: "completed",
      agent_loop_name: null,
      error: null,
      result: { output: null, iterations_used: null, tool_calls: null },
      metadata: { started_at: null, completed_at: null, duration_seconds: null, model: null, tokens_used: null },
    };
    assert.equal(checkCallbackPayload(body).ok, true);
    assert.equal(checkCallbackPayload({ ...body, metadata: null }).ok, true);
  });

  const rejections: Array<[string, unknown, string]> = [
    ["a bad status", { agent_loop_id: "l", execution_id: "e", status: "done" }, "status: expected one of completed, failed, timeout"],
    ["a missing execution_id", { agent_loop_id: "l", status: "failed" }, "execution_id: required, a non-empty string"],
    ["an empty agent_loop_id", { agent_loop_id: "", execution_id: "e", status: "failed" }, "agent_loop_id: must not be empty"],
    ["a blank execution_id", { agent_loop_id: "l", execution_id: "  ", status: "failed" }, "execution_id: must not be empty or blank"],
    [
      "a negative tool_calls",
      { agent_loop_id: "l", execution_id: "e", status: "completed", result: { tool_calls: -1 } },
      "result.tool_calls: expected a whole number >= 0",
    ],
    [
      "a fractional tokens_used",
      { agent_loop_id: "l", execution_id: "e", status: "completed", metadata: { tokens_used: 1.5 } },
      "metadata.tokens_used: expected a whole number >= 0",
    ],
    [
      "a date that is not ISO-8601",
      { agent_loop_id: "l", execution_id: "e", status: "completed", metadata: { started_at: "yesterday" } },
      "metadata.started_at: expected an ISO-8601 date-time such as 2024-01-15T10:00:00Z, or null",
    ],
    [
      "a string result",
      { agent_loop_id: "l", execution_id: "e", status: "completed", result: "text" },
      "result: expected an object or null",
    ],
    [
      "an error that is a number",
      { agent_loop_id: "l", execution_id: "e", status: "failed", error: 5 },
      "error: expected a string or null",
    ],
    ["an array body", [1], "(body): expected a JSON object"],
    ["a null body", null, "(body): expected a JSON object"],
  ];
  for (const [what, body, message] of rejections) {
    it(`rejects ${what}, naming the field`, () => {
      const check = checkCallbackPayload(body);
      assert.equal(check.ok, false);
      assert.ok(!check.ok && check.error.startsWith(message), !check.ok ? check.error : "");
    });
  }
});
