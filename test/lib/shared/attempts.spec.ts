// The attempts a callback's record keeps: the latest 10, a reply or error cut to its first KB,
// and a stored list read back without anything that is not an attempt.
import assert from "node:assert/strict";
import { KEPT_ATTEMPTS, KEPT_REPLY_CHARS, attemptRecord, readAttempts, withAttempt } from "../../../nodes/lib/shared/attempts";

describe("kept attempts (shared/attempts)", () => {
  it("keeps the latest 10 attempts, oldest dropped", () => {
    let history = withAttempt(undefined, undefined);
    for (let i = 1; i <= 25; i++) history = withAttempt(history, attemptRecord(i, 5, { statusCode: 500 + (i % 4) }));
    assert.equal(KEPT_ATTEMPTS, 10);
    assert.deepEqual(
      history.map((a) => a.at),
      [16, 17, 18, 19, 20, 21, 22, 23, 24, 25],
    );
  });

  it("cuts a reply and an error to 1 KB; a JSON reply is kept as JSON text; the duration rounded", () => {
    const long = attemptRecord(1, 12.6, { statusCode: 503, payload: "z".repeat(5000) });
    assert.equal(long.reply?.length, KEPT_REPLY_CHARS);
    assert.equal(long.ms, 13);
    assert.equal(attemptRecord(1, 1, { statusCode: 200, payload: { ok: true } }).reply, '{"ok":true}');
    assert.equal(attemptRecord(1, 1, { error: "e".repeat(2000) }).error?.length, KEPT_REPLY_CHARS);
    assert.equal(attemptRecord(1, 1, { statusCode: 204 }).reply, undefined);
  });

  it("reads a stored list back, skipping what is not an attempt and bounding what is", () => {
    const stored = [{ at: 1, ms: 2, statusCode: 503, reply: "r".repeat(3000), extra: "dropped" }, { at: "x" }, null, 7];
    assert.deepEqual(readAttempts(stored), [{ at: 1, ms: 2, statusCode: 503, reply: "r".repeat(1024) }]);
    assert.equal(readAttempts({}), undefined);
    assert.equal(readAttempts(Array.from({ length: 30 }, (_, i) => ({ at: i, ms: 0 })))?.length, 10);
  });
});
