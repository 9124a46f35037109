// The pause and pace per receiver: the rules alone (receiver-health.ts), then the file loop's
// DeliveryQueue holding a paused receiver's callbacks with real timers and a scripted receiver.
import assert from "node:assert/strict";
import type { DeliveryResult } from "../../../nodes/lib/send/deliver";
import { DeliveryQueue, type Finish } from "../../../nodes/lib/send/delivery-queue";
import { ReceiverHealth, admit, freshState, settle, type ReceiverRule } from "../../../nodes/lib/send/receiver-health";

const RULE: ReceiverRule = { pauseAfter: 3, pauseForMs: 1000, maxRate: 0 };

describe("receiver health: pause, test attempts, pace", () => {
  it("pauses after pauseAfter failures in a row, lets one test through per pauseFor, resumes on success", () => {
    const state = freshState();
    for (let i = 0; i < 2; i++) assert.equal(settle(state, RULE, "failed", undefined, false, 0), undefined);
    assert.deepEqual(settle(state, RULE, "failed", undefined, false, 10), { kind: "paused", since: 10, nextTest: 1010 });
    assert.deepEqual(admit(state, RULE, 500), { go: false, until: 1010 });
    assert.deepEqual(admit(state, RULE, 1010), { go: true, test: true });
    // One test at a time: nothing else while it runs.
    assert.equal(admit(state, RULE, 1020).go, false);
    settle(state, RULE, "failed", undefined, true, 1100);
    assert.deepEqual(admit(state, RULE, 1500), { go: false, until: 2100 });
    assert.equal(admit(state, RULE, 2100).go, true);
    assert.deepEqual(settle(state, RULE, "delivered", undefined, true, 2200), { kind: "resumed", since: 10 });
    assert.deepEqual(admit(state, RULE, 2201), { go: true, test: false });
  });

  it("never pauses with pauseAfter 0, and a 410 (other) does not count toward a pause", () => {
    const never = freshState();
    for (let i = 0; i < 50; i++) assert.equal(settle(never, { ...RULE, pauseAfter: 0 }, "failed", undefined, false, i), undefined);
    const state = freshState();
    settle(state, RULE, "failed", undefined, false, 0);
    settle(state, RULE, "failed", undefined, false, 0);
    settle(state, RULE, "other", undefined, false, 0);
    assert.equal(state.pausedSince, undefined);
    assert.equal(state.failures, 2);
  });

  it("paces to maxRate and holds the receiver for a Retry-After", () => {
    const state = freshState();
    const paced = { ...RULE, maxRate: 20 };
    assert.equal(admit(state, paced, 0).go, true);
    assert.deepEqual(admit(state, paced, 10), { go: false, until: 50 });
    assert.equal(admit(state, paced, 50).go, true);
    settle(state, paced, "failed", 5, false, 100);
    assert.deepEqual(admit(state, paced, 200), { go: false, until: 5100 });
  });

  it("in the file loop: a paused receiver gets one test per pauseFor, no callback gives up, all are delivered after it recovers", async () => {
    const ok: DeliveryResult = { outcome: { kind: "response", statusCode: 200 }, statusCode: 200 };
    const down: DeliveryResult = { outcome: { kind: "response", statusCode: 503 }, statusCode: 503 };
    const attempts: Array<{ id: string; at: number }> = [];
    const finished: Array<{ id: string; finish: Finish }> = [];
    let failing = true;
    const changes: string[] = [];
    const health = new ReceiverHealth({ pauseAfter: 2, pauseForMs: 150, maxRate: 0 }, (_, change) => changes.push(change.kind));
    const queue = new DeliveryQueue({
      concurrency: 2,
      schedule: [0.01],
      retry4xx: false,
      random: () => 0.5,
      attempt: async (id) => {
        attempts.push({ id, at: Date.now() });
        return failing ? down : ok;
      },
      onRetry: () => undefined,
      onFinish: (id, _attempts, _result, finish) => finished.push({ id, finish }),
      receivers: { of: () => "http://receiver", gate: health },
    });
    const now = Date.now();
    queue.scheduleAll(Array.from({ length: 3 }, (_, i) => ({ id: `c${i}`, dueAt: now, attempts: 0 })));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(finished.length, 0, "none gave up while the receiver was paused (schedule [0.01]: one retry each)");
    assert.deepEqual(changes, ["paused"]);
    const paused = attempts.slice(2);
    for (let i = 1; i < paused.length; i++) {
      const gap = (paused[i] as { at: number }).at - (paused[i - 1] as { at: number }).at;
      assert.ok(gap >= 140, `test attempts ${gap} ms apart (pauseFor 150 ms)`);
    }
    assert.ok(paused.length >= 3 && paused.length <= 8, `${paused.length} test attempts in about 1 s`);
    failing = false;
    await new Promise((resolve) => setTimeout(resolve, 500));
    queue.stop();
    assert.equal(finished.length, 3);
    assert.ok(finished.every((f) => f.finish === "delivered"));
    assert.deepEqual(changes, ["paused", "resumed"]);
  });
});
