import assert from "node:assert/strict";
import { callbackPayloadSchema, checkCallbackPayload, samplePayload, wellFormedCallback } from "../../../nodes/lib/shared/payload";

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

  describe("the one-pass check of well-formed callbacks", () => {
    const ABSENT = Symbol("absent");
    const text = ["", " ", "x", "x".repeat(256), "x".repeat(257), "\t\n"];
    const numbers = [0, 1, -1, 1.5, 2 ** 53, -0, 1e308];
    const dates = [
      "2024-01-15T10:00:00Z",
      "2024-01-15T10:00:00.123+02:00",
      "2024-02-30T10:00:00Z",
      "2024-01-15 10:00:00Z",
      "2024-01-15T10:00Z",
      "2024-01-15",
    ];
    const others = [null, ABSENT, true, {}, [], "completed", "failed", "timeout", "Completed"];
    const pool = [...text, ...numbers, ...dates, ...others];
    const fields = {
      top: ["agent_loop_id", "agent_loop_name", "execution_id", "status", "result", "metadata", "error", "extra"],
      result: ["output", "iterations_used", "tool_calls", "extra"],
      metadata: ["started_at", "completed_at", "duration_seconds", "model", "tokens_used", "extra"],
    };
    // A small seeded generator, so that a failure names a variant that can be run again.
    let seed = 12345;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      // The high bits: an LCG's low bits repeat with a short period.
      return Math.floor(seed / 2 ** 16) % n;
    };
    const pick = <T>(list: readonly T[]): T => list[random(list.length)] as T;
    const shuffled = (object: Record<string, unknown>): Record<string, unknown> => {
      const keys = Object.keys(object);
      for (let i = keys.length - 1; i > 0; i--) {
        const j = random(i + 1);
        [keys[i], keys[j]] = [keys[j] as string, keys[i] as string];
      }
      return Object.fromEntries(keys.map((key) => [key, object[key]]));
    };
    const set = (object: Record<string, unknown>, key: string, value: unknown): void => {
      if (value === ABSENT) delete object[key];
      else object[key] = value;
    };
    /** The sample with one to three fields changed, keys sometimes shuffled; as the JSON text a sender would post. */
    function variant(): string {
      const payload = samplePayload() as unknown as Record<string, unknown>;
      const result = payload.result as Record<string, unknown>;
      const metadata = payload.metadata as Record<string, unknown>;
      for (let changes = 1 + random(3); changes > 0; changes--) {
        const where = pick(["top", "result", "metadata"] as const);
        set(where === "top" ? payload : where === "result" ? result : metadata, pick(fields[where]), pick(pool));
      }
      let body = JSON.stringify(random(4) === 0 ? shuffled(payload) : payload);
      if (random(3) === 0 && typeof payload.result === "object" && payload.result !== null) {
        body = JSON.stringify({ ...payload, result: shuffled(payload.result as Record<string, unknown>) });
      }
      // JSON.parse makes "__proto__" an own key, as it would from a request.
      if (random(20) === 0) body = body.replace("{", '{"__proto__":{"polluted":true},');
      return body;
    }

    it("accepts only what the schema accepts, and returns what the schema returns (5,000 variants)", () => {
      let agreedValid = 0;
      let fast = 0;
      for (let i = 0; i < 5000; i++) {
        const body = variant();
        const value: unknown = JSON.parse(body);
        const quick = wellFormedCallback(value);
        const schema = callbackPayloadSchema.safeParse(value);
        const checked = checkCallbackPayload(value);
        assert.equal(JSON.stringify(value), JSON.stringify(JSON.parse(body)), `the input is not written to: ${body}`);
        assert.equal(checked.ok, schema.success, body);
        if (quick !== undefined) {
          fast++;
          assert.ok(schema.success, `accepted what the schema refuses: ${body}`);
          assert.equal(JSON.stringify(quick), JSON.stringify(schema.data), `same keys in the same order: ${body}`);
          assert.deepEqual(quick, schema.data, body);
        }
        if (schema.success) {
          agreedValid++;
          assert.ok(checked.ok && JSON.stringify(checked.payload) === JSON.stringify(schema.data), body);
        }
      }
      // Most valid variants take the one-pass path (the rest, e.g. with __proto__, go to the schema).
      assert.ok(agreedValid > 500, `valid variants: ${agreedValid}`);
      assert.ok(fast > agreedValid * 0.8, `one-pass accepted ${fast} of ${agreedValid} valid`);
    });

    it("takes the seed's sample and its field order as they are", () => {
      const value: unknown = JSON.parse(JSON.stringify(samplePayload()));
      assert.equal(wellFormedCallback(value), value);
    });
  });
});
