import assert from "node:assert/strict";
import { TokenBucket } from "../../../nodes/lib/receive/rate-limit";

describe("lib/rate-limit", () => {
  it("accepts a burst of perMinute, then refuses with Retry-After seconds", () => {
    let now = 0;
    const bucket = new TokenBucket(60, () => now);
    for (let i = 0; i < 60; i++) assert.deepEqual(bucket.take(), { ok: true });
    assert.deepEqual(bucket.take(), { ok: false, retryAfterSeconds: 1 });
    now = 1000; // one token per second comes back
    assert.deepEqual(bucket.take(), { ok: true });
    assert.equal(bucket.take().ok, false);
  });

  it("computes Retry-After from the refill rate", () => {
    let now = 0;
    const bucket = new TokenBucket(2, () => now);
    bucket.take();
    bucket.take();
    assert.deepEqual(bucket.take(), { ok: false, retryAfterSeconds: 30 });
    now = 30_000;
    assert.deepEqual(bucket.take(), { ok: true });
  });

  it("never holds more than perMinute tokens", () => {
    let now = 0;
    const bucket = new TokenBucket(5, () => now);
    now = 10 * 60_000;
    let accepted = 0;
    for (let i = 0; i < 20; i++) if (bucket.take().ok) accepted++;
    assert.equal(accepted, 5);
  });

  it("0 means unlimited", () => {
    const bucket = new TokenBucket(0, () => 0);
    for (let i = 0; i < 10_000; i++) assert.equal(bucket.take().ok, true);
  });
});
