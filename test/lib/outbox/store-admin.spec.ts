// The deliveries sidebar's reads and actions on the shared outbox in a real redis-server: the
// waiting list (capped, first due first, in-flight ones marked), retry now, cancel, gave-up
// records kept in Redis within their bounds, and resend with the same body bytes.
import assert from "node:assert/strict";
import type { OutboxEntry } from "../../../nodes/lib/outbox/types";
import { StoreOutbox } from "../../../nodes/lib/outbox/store-outbox";
import { StoreAdmin } from "../../../nodes/lib/outbox/store-admin";
import type { StoreConnection } from "../../../nodes/lib/store/connection";
import { RedisServer } from "../../support/redis-server";
import { openStore } from "../../support/store";
import { StoreSidebar } from "../../../nodes/lib/send/store-sidebar";

function entry(id: string, dueAt: number, extra: Partial<OutboxEntry> = {}): OutboxEntry {
  const body = JSON.stringify({ agent_loop_name: "Nightly", execution_id: `exec_${id}`, status: "completed", note: 'é / \u2028 "q"' });
  return { id, executionId: `exec_${id}`, body, attempts: 0, dueAt, createdAt: dueAt, ...extra };
}

describe("lib/outbox/store-admin (real redis-server)", () => {
  const redis = new RedisServer();
  let client: StoreConnection;
  let queue = 0;
  let now = 1_700_000_000_000;
  const clock = (): number => now;
  const outbox = (holder = "A", leaseMs = 60_000): StoreOutbox =>
    new StoreOutbox(client, { queueKey: `adm:q${queue}`, leaseMs, holder, now: clock });

  before(async () => {
    await redis.start();
    client = await openStore(redis.url, "adm:");
  });
  beforeEach(() => {
    queue++;
  });
  after(async () => {
    await client.close();
    await redis.stop();
    redis.cleanup();
  });

  it("the sidebar's view lists a callback this instance has delivered as delivered only, even while the store still holds it", async () => {
    const box = outbox();
    await box.add(entry("d1", now));
    await box.add(entry("d2", now));
    const [held] = await box.take(1);
    assert.equal(held?.id, "d1");
    const deliveries = new StoreSidebar(box, () => undefined, clock);
    // The delivered record lands while the store is being read (here: before its removal, as a read could see it).
    deliveries.delivered({
      id: "d1",
      executionId: "exec_d1",
      at: now,
      statusCode: 200,
      attempts: 1,
      body: held.body,
      url: "http://127.0.0.1:9/x",
      reply: { received: true },
    });
    const view = await deliveries.view();
    assert.deepEqual(
      view.waiting.map((w) => w.id),
      ["d2"],
    );
    assert.deepEqual(
      view.delivered.map((d) => d.id),
      ["d1"],
    );
    assert.deepEqual([view.waitingTotal, view.counts.queued, view.counts.inFlight], [1, 1, 0]);
  });

  it("lists the first waiting entries by due time, with the whole queue counted, held ones in flight", async () => {
    const box = outbox();
    for (let i = 0; i < 30; i++) await box.add(entry(`e${i}`, now + 1000 * (30 - i), { attempts: 2, lastStatus: 503 }));
    const [taken] = await outbox("B").take(1); // none due yet
    assert.equal(taken, undefined);
    now += 30_500; // all due
    const [held] = await outbox("B").take(1);
    assert.equal(held?.id, "e29");
    const list = await box.admin.waiting(10);
    assert.equal(list.pending, 30);
    assert.equal(list.held, 1);
    assert.equal(list.items.length, 10);
    assert.deepEqual(
      list.items.map((w) => w.id),
      ["e28", "e27", "e26", "e25", "e24", "e23", "e22", "e21", "e20", "e19"],
    );
    const first = list.items[0]!;
    assert.deepEqual(
      [first.executionId, first.attempts, first.nextAttempt, first.inFlight, first.lastStatus, first.agentLoopName, first.status],
      ["exec_e28", 2, now - 30_500 + 2000, false, 503, "Nightly", "completed"],
    );
    const all = await box.admin.waiting(100);
    const inFlight = all.items.find((w) => w.id === "e29");
    assert.deepEqual([inFlight?.inFlight, inFlight?.nextAttempt], [true, now - 30_500 + 1000]);
    assert.equal(JSON.stringify(all).includes("note"), false, "no body in the list");
  });

  it("retry now makes waiting entries due at once, never one in flight", async () => {
    const box = outbox();
    await box.add(entry("a", now + 3_600_000));
    await box.add(entry("b", now + 3_600_000));
    await box.add(entry("c", now));
    await outbox("B").take(1); // c is in flight
    assert.deepEqual(await box.admin.retryNow({ executionIds: ["exec_a", "exec_c", "exec_x"] }), ["exec_a"]);
    assert.deepEqual(
      (await box.take(5)).map((e) => e.id),
      ["a"],
    );
    assert.deepEqual(await box.admin.retryNow({ all: true }), ["exec_b"]);
    assert.deepEqual(
      (await box.take(5)).map((e) => e.id),
      ["b"],
    );
  });

  it("cancel moves a waiting entry to gave up, body and all; a held one stays", async () => {
    const box = outbox();
    await box.add(entry("a", now + 5000, { attempts: 1, lastStatus: 500, url: "https://example.test/hook", topic: "t" }));
    await box.add(entry("b", now));
    await outbox("B").take(5);
    assert.deepEqual(
      (await box.admin.cancel(["exec_a", "exec_b"])).map((r) => [r.executionId, r.why, typeof r.body]),
      [["exec_a", "cancelled", "string"]],
    );
    assert.equal((await box.admin.waiting(10)).pending, 1);
    const gaveUp = await box.admin.gaveUpList();
    assert.deepEqual(gaveUp.items, [{ id: "a", executionId: "exec_a", attempts: 1, at: now, why: "cancelled", statusCode: 500 }]);
    assert.equal(gaveUp.lastHour, 0, "a cancel is not counted with those given up");
    assert.deepEqual(await box.admin.resendGaveUp({ executionIds: ["exec_a"] }, "r1"), ["exec_a"]);
    const [again] = await box.take(5);
    assert.deepEqual(
      [again?.id, again?.body, again?.url, again?.topic, again?.attempts],
      ["r1-1", entry("a", 0).body, "https://example.test/hook", "t", 0],
    );
    assert.equal((await box.admin.gaveUpList()).items.length, 0);
  });

  it("a held entry given up is out of the queue and among the gave-up records at once, only for its holder", async () => {
    const box = outbox();
    const other = outbox("B");
    await box.add(entry("a", now));
    const [taken] = await box.take(1);
    const record = { id: "a", executionId: "exec_a", body: taken!.body, attempts: 3, at: now, why: "HTTP 410", statusCode: 410 };
    assert.equal(await other.giveUp("a", record), false, "B does not hold it");
    assert.equal(await box.giveUp("a", record), true);
    assert.equal((await box.admin.waiting(10)).pending, 0);
    assert.deepEqual(
      (await box.admin.gaveUpList()).items.map((g) => [g.executionId, g.why, g.attempts, g.statusCode]),
      [["exec_a", "HTTP 410", 3, 410]],
    );
    // Resent from any instance: B queues it again with the same body.
    assert.deepEqual(await other.admin.resendGaveUp({ all: true }, "r2"), ["exec_a"]);
    assert.equal((await other.take(1))[0]?.body, taken?.body);
  });

  it("keeps gave-up records for 7 days and at most 1,000 per node, the newest", async () => {
    const box = outbox();
    const admin = new StoreAdmin(client, `adm:q${queue}`, { now: clock, maxGaveUp: 5 });
    const start = now;
    for (let i = 0; i < 8; i++) {
      await box.add(entry(`g${i}`, now));
      await box.take(1);
      now += 1000;
      await box.giveUp(`g${i}`, { id: `g${i}`, executionId: `exec_g${i}`, body: "{}", attempts: 1, at: now, why: "x" });
    }
    // The default bound is 1,000: all 8 kept.
    assert.equal((await box.admin.gaveUpList()).items.length, 8);
    assert.deepEqual(
      (await admin.gaveUpList()).items.map((g) => g.id),
      ["g7", "g6", "g5", "g4", "g3"],
    );
    now = start + 7 * 24 * 3_600_000 + 5500; // g0..g4 past 7 days
    assert.deepEqual(
      (await box.admin.gaveUpList()).items.map((g) => g.id),
      ["g7", "g6", "g5"],
    );
    for (const key of ["gaveup", "gaveup-view", "gaveup-at"]) {
      const size = Number(await client.sendCommand([key === "gaveup-at" ? "ZCARD" : "HLEN", `adm:q${queue}:${key}`]));
      assert.equal(size, 3, `${key} pruned in Redis too`);
    }
  });

  it("names the agent loop and status of a large body from its start, without parsing it whole", async () => {
    const box = outbox();
    const big = JSON.stringify({
      agent_loop_id: "loop_big",
      agent_loop_name: "Big one",
      execution_id: "exec_big",
      status: "timeout",
      result: { output: "x".repeat(200_000), status: "completed" },
    });
    await box.add({ id: "big", executionId: "exec_big", body: big, attempts: 0, dueAt: now, createdAt: now });
    const [view] = (await box.admin.waiting(10)).items;
    assert.deepEqual([view?.agentLoopName, view?.status], ["Big one", "timeout"]);
  });
});
