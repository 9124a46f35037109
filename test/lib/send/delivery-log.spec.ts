import assert from "node:assert/strict";
import { DeliveryLog, HourCounter, replyPreview, type Delivered } from "../../../nodes/lib/send/delivery-log";
import { Ring } from "../../../nodes/lib/shared/ring";

function delivered(n: number, at: number, reply: unknown = { ok: true }): Delivered {
  return { id: `id${n}`, executionId: `exec_${n}`, at, statusCode: 200, attempts: 1, body: `{"n":${n}}`, reply };
}

describe("lib/send/delivery-log", () => {
  it("Ring keeps the latest `capacity` items, newest first", () => {
    const ring = new Ring<number>(3);
    assert.equal(ring.push(1), undefined);
    ring.push(2);
    ring.push(3);
    assert.equal(ring.push(4), 1);
    assert.deepEqual(ring.newestFirst(), [4, 3, 2]);
    assert.equal(ring.size, 3);
  });

  it("HourCounter counts the last 60 minutes only", () => {
    let now = 10 * 3600_000;
    const counter = new HourCounter(() => now);
    counter.add();
    counter.add();
    now += 30 * 60_000;
    counter.add();
    assert.equal(counter.total(), 3);
    now += 31 * 60_000; // the first two are now 61 minutes old
    assert.equal(counter.total(), 1);
    now += 2 * 3600_000;
    assert.equal(counter.total(), 0);
    counter.add();
    assert.equal(counter.total(), 1);
  });

  it("health: unknown, failing since the first failure of a streak with the last cause, up after a success", () => {
    let now = 1000;
    const log = new DeliveryLog(() => now);
    assert.deepEqual(log.health(), { state: "unknown" });
    log.attempted({ ok: false, error: "connect ECONNREFUSED" });
    now = 2000;
    log.attempted({ ok: false, statusCode: 503 });
    assert.deepEqual(log.health(), { state: "failing", since: 1000, lastStatus: 503 });
    log.attempted({ ok: true, statusCode: 200 });
    assert.deepEqual(log.health(), { state: "up" });
    now = 5000;
    log.attempted({ ok: false, statusCode: 500 });
    assert.equal(log.health().since, 5000);
  });

  it("keeps the latest 100 delivered with a 200-character reply preview, and counts the last hour", () => {
    let now = 0;
    const log = new DeliveryLog(() => now);
    for (let n = 0; n < 150; n++) log.delivered(delivered(n, now, n === 149 ? "x".repeat(500) : { n }));
    log.gaveUp();
    const list = log.deliveredList();
    assert.equal(list.length, 100);
    assert.equal(list[0]?.executionId, "exec_149");
    assert.equal(list[0]?.reply, "x".repeat(200));
    assert.equal(list[1]?.reply, '{"n":148}');
    assert.equal(list[99]?.executionId, "exec_50");
    assert.deepEqual(log.counts(), { deliveredLastHour: 150, gaveUpLastHour: 1 });
    assert.equal(log.findDelivered(new Set(["exec_120"]))[0]?.body, '{"n":120}');
    assert.deepEqual(log.findDelivered(new Set(["exec_10"])), []);
    now = 3 * 3600_000;
    assert.deepEqual(log.counts(), { deliveredLastHour: 0, gaveUpLastHour: 0 });
  });

  it("replyPreview: text as is, JSON as text, nothing as empty", () => {
    assert.equal(replyPreview(undefined), "");
    assert.equal(replyPreview("ok"), "ok");
    assert.equal(replyPreview({ received: true }), '{"received":true}');
  });
});
