import assert from "node:assert/strict";
import type { OutboxEntry } from "../../../nodes/lib/outbox/types";
import { StoreOutbox } from "../../../nodes/lib/outbox/store-outbox";
import { StoreUnavailableError, type StoreConnection } from "../../../nodes/lib/store/connection";
import { RedisServer } from "../../support/redis-server";
import { openStore } from "../../support/store";

function entry(id: string, dueAt = 0): OutboxEntry {
  return {
    id,
    executionId: `exec_${id}`,
    body: JSON.stringify({ execution_id: `exec_${id}` }),
    attempts: 0,
    dueAt,
    createdAt: dueAt,
    topic: "t",
  };
}

describe("lib/outbox/store-outbox (real redis-server)", () => {
  const redis = new RedisServer();
  let a: StoreConnection;
  let b: StoreConnection;
  let queue = 0;
  let now = 1_000_000;
  const clock = (): number => now;
  const pair = (leaseMs = 60_000): [StoreOutbox, StoreOutbox] => {
    const queueKey = `o:q${++queue}`;
    return [
      new StoreOutbox(a, { queueKey, leaseMs, holder: "A", now: clock }),
      new StoreOutbox(b, { queueKey, leaseMs, holder: "B", now: clock }),
    ];
  };
  before(async () => {
    await redis.start();
    a = await openStore(redis.url, "o:");
    b = await openStore(redis.url, "o:");
  });
  after(async () => {
    await a.close();
    await b.close();
    await redis.stop();
    redis.cleanup();
  });

  it("stores an entry whole and gives each due entry to one instance only", async () => {
    const [first, second] = pair();
    for (let i = 0; i < 10; i++) assert.equal(await first.add(entry(`e${i}`, now - 10 + i)), true);
    assert.equal(await second.size(), 10);
    const [takenA, takenB] = await Promise.all([first.take(6), second.take(6)]);
    const ids = [...takenA, ...takenB].map((e) => e.id).sort();
    assert.deepEqual(ids, Array.from({ length: 10 }, (_, i) => `e${i}`).sort());
    assert.deepEqual(
      [...takenA, ...takenB].find((e) => e.id === "e3"),
      entry("e3", now - 7),
    );
    assert.deepEqual(await first.take(10), [], "all held");
  });

  it("stores an entry's own fields only, as the journal's add record does", async () => {
    const [first] = pair();
    const withExtra = { ...entry("x1", now), offset: 3, length: 9 } as OutboxEntry;
    assert.equal(await first.add(withExtra), true);
    const stored = JSON.parse(String(await a.sendCommand(["HGET", `o:q${queue}:entries`, "x1"]))) as Record<string, unknown>;
    assert.deepEqual(stored, { ...entry("x1", now) });
    assert.deepEqual(Object.keys(stored), ["id", "executionId", "attempts", "dueAt", "createdAt", "topic", "body"]);
  });

  it("does not give an entry before it is due", async () => {
    const [first] = pair();
    await first.add(entry("later", now + 5000));
    assert.deepEqual(await first.take(1), []);
    now += 5000;
    assert.equal((await first.take(1))[0]?.id, "later");
  });

  it("refuses an entry past maxPending (nothing stored)", async () => {
    const [first] = pair();
    assert.equal(await first.add(entry("x1"), 2), true);
    assert.equal(await first.add(entry("x2"), 2), true);
    assert.equal(await first.add(entry("x3"), 2), false);
    assert.equal(await first.size(), 2);
  });

  it("reschedules with attempts, due time and last status kept; removes for good", async () => {
    const [first, second] = pair();
    await first.add(entry("r", now));
    await first.take(1);
    assert.equal(await first.reschedule("r", { attempts: 1, dueAt: now + 1000, lastStatus: 503, lastError: undefined }), true);
    assert.deepEqual(await second.take(1), []);
    now += 1000;
    const [again] = await second.take(1);
    assert.equal(again?.attempts, 1);
    assert.equal(again?.lastStatus, 503);
    assert.equal(again?.dueAt, now);
    assert.equal(await second.remove("r"), true);
    assert.equal(await second.size(), 0);
    now += 100_000;
    assert.deepEqual(await first.take(1), []);
  });

  it("gives an entry whose holder died to another instance after the lease, and the late holder cannot undo it", async () => {
    const [first, second] = pair(60_000);
    await first.add(entry("held", now));
    assert.equal((await first.take(1)).length, 1);
    now += 59_999;
    assert.deepEqual(await second.take(1), [], "lease still running");
    now += 1;
    assert.equal((await second.take(1))[0]?.id, "held");
    assert.equal(await first.remove("held"), false, "the first holder lost its lease");
    assert.equal(await first.reschedule("held", { attempts: 1, dueAt: now }), false);
    assert.equal(await second.size(), 1);
    assert.equal(await second.remove("held"), true);
    assert.equal(await second.size(), 0);
  });

  it("releaseAll gives held entries back at once (a redeploy does not wait for the lease)", async () => {
    const [first, second] = pair(60_000);
    await first.add(entry("g1", now));
    await first.add(entry("g2", now + 10));
    now += 10;
    assert.equal((await first.take(5)).length, 2);
    await first.releaseAll();
    assert.equal((await second.take(5)).length, 2);
  });

  it("keeps acknowledged entries across a restart of redis-server (appendonly yes)", async () => {
    const [first] = pair();
    for (let i = 0; i < 100; i++) await first.add(entry(`k${i}`, now));
    await redis.restart();
    const fresh = await openStore(redis.url, "o:");
    try {
      const outbox = new StoreOutbox(fresh, { queueKey: `o:q${queue}`, leaseMs: 60_000, holder: "C", now: clock });
      assert.equal(await outbox.size(), 100);
      assert.equal((await outbox.take(200)).length, 100);
    } finally {
      await fresh.close();
    }
  });

  it("rejects add with StoreUnavailableError when the store is down", async () => {
    const down = new RedisServer();
    await down.start();
    const connection = await openStore(down.url, "o:");
    try {
      await down.stop();
      const outbox = new StoreOutbox(connection, { queueKey: "o:down", leaseMs: 1000, holder: "A" });
      await assert.rejects(outbox.add(entry("n")), StoreUnavailableError);
    } finally {
      await connection.close();
      down.cleanup();
    }
  });
});
