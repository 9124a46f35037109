// execution_id, agent_loop_id and agent_loop_name are at most 256 characters on both sides, so
// that what a receiver remembers for dedupe is bounded in bytes, and callback out never sends what
// callback in would refuse.
import assert from "node:assert/strict";
import { formatCallback } from "../../../nodes/lib/send/format";
import { checkCallbackPayload, MAX_ID_LENGTH, samplePayload } from "../../../nodes/lib/shared/payload";

const FIELDS = ["execution_id", "agent_loop_id", "agent_loop_name"] as const;

describe("id and name fields: at most 256 characters", () => {
  it("accepts 256 characters and refuses 257, naming the field", () => {
    assert.equal(MAX_ID_LENGTH, 256);
    for (const field of FIELDS) {
      assert.equal(checkCallbackPayload({ ...samplePayload(), [field]: "x".repeat(256) }).ok, true, field);
      const check = checkCallbackPayload({ ...samplePayload(), [field]: "x".repeat(257) });
      assert.ok(!check.ok, field);
      assert.equal(!check.ok && check.error, `${field}: must be at most 256 characters`);
    }
  });

  it("callback out formats 256 characters and refuses 257 with the same message", () => {
    const defaults = { agentLoopId: "loop", agentLoopName: "" };
    for (const field of FIELDS) {
      const ok = formatCallback({ payload: { ...samplePayload(), [field]: "y".repeat(256) } }, defaults);
      assert.equal(ok.ok, true, field);
      const refused = formatCallback({ payload: { ...samplePayload(), [field]: "y".repeat(257) } }, defaults);
      // The refusal also names its problem (too-long) for the translated message; the English text is the receiver's.
      assert.deepEqual(refused, { ok: false, field, error: `${field}: must be at most 256 characters`, problem: "too-long", more: 0 });
    }
  });
});
