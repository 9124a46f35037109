import assert from "node:assert/strict";
import type { DeliveryResult } from "../../../nodes/lib/send/deliver";
import type { Finish } from "../../../nodes/lib/send/delivery-queue";
import type { OutboxEntry } from "../../../nodes/lib/outbox/types";
import { StoreOutbox } from "../../../nodes/lib/outbox/store-outbox";
import { StoreQueue, type StoreQueueOptions } from "../../../nodes/lib/send/store-queue";
import { StoreConnection } from "../../../nodes/lib/store/connection";
import { RedisServer } from "../../support/redis-server";
import { openStore } from "../../support/store";

const OK: DeliveryResult = { outcome: { kind: "response", statusCode: 200 }, statusCode: 200 };
const status = (code: number): DeliveryResult => ({ outcome: { kind: "response", statusCode: code }, statusCode: code });

function entry(id: string): OutboxEntry {
  const now = Date.now();
  return { id, executionId: `exec_${id}`, body: "{}", attempts: 0, dueAt: now, createdAt: now };
}

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("lib/send/store-queue (real redis-server)", () => {
  const redis = new RedisServer();
  let a: StoreConnection;
  let b: StoreConnection;
  let queue = 0;
  const running: StoreQueue[] = [];
  before(async () => {
    await redis.start();
    a = await openStore(redis.url, "s:");
    b = await openStore(redis.url, "s:");
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((d) => d.stop().catch(() => undefined)));
  });
  after(async () => {
    await a.close();
    await b.close();
    await redis.stop();
    redis.cleanup();
  });

  type Finished = { id: string; attempts: number; finish: Finish; by: string };
  function start(
    connection: StoreConnection,
    holder: string,
    queueKey: string,
    finished: Finished[],
    options: Partial<StoreQueueOptions> & { leaseMs?: number } = {},
  ): { delivery: StoreQueue; outbox: StoreOutbox } {
    const outbox = new StoreOutbox(connection, { queueKey, leaseMs: options.leaseMs ?? 60_000, holder });
    const delivery = new StoreQueue({
      outbox,
      concurrency: 4,
      schedule: [0.05, 0.05],
      retry4xx: false,
      pollMs: 20,
      random: () => 0.5,
      attempt: () => Promise.resolve(OK),
      onFinish: (e, attempts, _result, finish) => finished.push({ id: e.id, attempts, finish, by: holder }),
      onStoreError: () => undefined,
      ...options,
    });
    running.push(delivery);
    delivery.start();
    return { delivery, outbox };
  }

  it("delivers each of 200 entries exactly once across two instances", async () => {
    const key = `s:q${++queue}`;
    const finished: Finished[] = [];
    const attempted: string[] = [];
    const attempt = (e: Readonly<OutboxEntry>): Promise<DeliveryResult> => {
      attempted.push(e.id);
      return new Promise((resolve) => setTimeout(() => resolve(OK), 2));
    };
    const first = start(a, "A", key, finished, { attempt });
    start(b, "B", key, finished, { attempt });
    for (let i = 0; i < 200; i++) await first.outbox.add(entry(`e${i}`));
    await until(() => finished.length === 200, "200 delivered");
    assert.equal(new Set(attempted).size, 200);
    assert.equal(attempted.length, 200, "no entry attempted twice");
    assert.ok(finished.some((f) => f.by === "A") && finished.some((f) => f.by === "B"), "both instances delivered");
    assert.equal(await first.outbox.size(), 0);
  });

  it("retries on the schedule (503 then 200: delivered on attempt 2) and gives up on 410", async () => {
    const key = `s:q${++queue}`;
    const finished: Finished[] = [];
    const seen = new Map<string, number>();
    const attempt = (e: Readonly<OutboxEntry>, n: number): Promise<DeliveryResult> => {
      seen.set(e.id, n);
      if (e.id === "gone") return Promise.resolve(status(410));
      return Promise.resolve(n === 1 ? status(503) : OK);
    };
    const { outbox } = start(a, "A", key, finished, { attempt });
    await outbox.add(entry("retried"));
    await outbox.add(entry("gone"));
    await until(() => finished.length === 2, "both finished");
    assert.deepEqual(
      finished.find((f) => f.id === "retried"),
      { id: "retried", attempts: 2, finish: "delivered", by: "A" },
    );
    assert.deepEqual(
      finished.find((f) => f.id === "gone"),
      { id: "gone", attempts: 1, finish: "gave-up", by: "A" },
    );
    assert.equal(await outbox.size(), 0);
  });

  it("gives up after the last retry of the schedule", async () => {
    const finished: Finished[] = [];
    const { outbox } = start(a, "A", `s:q${++queue}`, finished, { attempt: () => Promise.resolve(status(500)) });
    await outbox.add(entry("always-500"));
    await until(() => finished.length === 1, "gave up");
    assert.deepEqual(finished[0], { id: "always-500", attempts: 3, finish: "gave-up", by: "A" });
  });

  it("an entry held by an instance that stopped answering is delivered by another after the lease", async () => {
    const key = `s:q${++queue}`;
    const finished: Finished[] = [];
    // A takes the entries and never finishes them (a process frozen or cut off from its receiver).
    const stuck = start(a, "A", key, finished, { attempt: () => new Promise<DeliveryResult>(() => undefined), leaseMs: 400 });
    for (let i = 0; i < 3; i++) await stuck.outbox.add(entry(`h${i}`));
    await until(() => stuck.outbox.heldCount === 3, "A holds all three");
    start(b, "B", key, finished, { leaseMs: 400 });
    await until(() => finished.length === 3, "B delivered them");
    assert.ok(finished.every((f) => f.by === "B" && f.finish === "delivered"));
    running.splice(running.indexOf(stuck.delivery), 1);
  });

  it("reports the store down and resumes delivery when it is back", async () => {
    const own = new RedisServer();
    await own.start();
    const connection = await openStore(own.url, "s:");
    try {
      const finished: Finished[] = [];
      const errors: Error[] = [];
      const { outbox } = start(connection, "A", "s:down", finished, { onStoreError: (err) => errors.push(err) });
      await outbox.add(entry("before"));
      await until(() => finished.length === 1, "first delivered");
      await own.stop();
      await until(() => errors.length > 0, "store error reported");
      await own.start();
      await until(() => connection.state === "ready", "reconnected");
      await outbox.add(entry("after"));
      await until(() => finished.length === 2, "delivered after the store came back");
    } finally {
      await Promise.all(running.splice(0).map((d) => d.stop().catch(() => undefined)));
      await connection.close();
      await own.stop();
      own.cleanup();
    }
  });

  it("works for a user whose ACL allows no pub/sub channels: adds are stored, and delivery polls", async () => {
    await a.sendCommand(["ACL", "SETUSER", "nochannels", "on", ">pw-nc", "~*", "resetchannels", "+@all"]);
    const restricted = new StoreConnection({ url: redis.url, prefix: "s:", username: "nochannels", password: "pw-nc" });
    try {
      await until(() => restricted.state === "ready", "restricted user connected");
      const finished: Finished[] = [];
      const { outbox } = start(restricted, "R", `s:q${++queue}`, finished);
      assert.equal(await outbox.add(entry("no-pubsub")), true);
      await until(() => finished.length === 1, "delivered by polling");
      await assert.rejects(
        outbox.onAdded(() => undefined),
        /NOPERM|permission/i,
      );
    } finally {
      await Promise.all(running.splice(0).map((d) => d.stop().catch(() => undefined)));
      await restricted.close();
    }
  });

  describe("with slow polls (60 s): what wakes an idle instance", () => {
    const slow = { pollMs: 60_000, idlePollMs: 60_000 };
    const listeners = async (channel: string): Promise<number> => {
      const reply = await a.sendCommand(["PUBSUB", "NUMSUB", channel]);
      return Number(Array.isArray(reply) ? reply[1] : Object.values(reply as Record<string, unknown>)[0]);
    };

    it("an entry another instance adds is delivered at once (the add is published)", async () => {
      const key = `s:q${++queue}`;
      const finished: Finished[] = [];
      const idle = start(a, "A", key, finished, slow);
      // A has looked once, found nothing, and sleeps until its next poll, a minute away.
      await until(async () => (await listeners(`${key}:wake`)) === 1, "A listens");
      const other = new StoreOutbox(b, { queueKey: key, leaseMs: 60_000, holder: "B" });
      await other.add(entry("from-b"));
      await until(() => finished.length === 1, "delivered by A long before its next poll");
      assert.deepEqual(finished[0], { id: "from-b", attempts: 1, finish: "delivered", by: "A" });
      assert.equal(idle.outbox.heldCount, 0);
    });

    it("a retry is made when it is due, and an entry whose holder died when its lease ends", async () => {
      const key = `s:q${++queue}`;
      const finished: Finished[] = [];
      // "dead" takes an entry and never finishes it.
      const dead = new StoreOutbox(b, { queueKey: key, leaseMs: 300, holder: "dead" });
      await dead.add(entry("held"));
      assert.equal((await dead.take(1)).length, 1);
      const attempt = (e: Readonly<OutboxEntry>, n: number): Promise<DeliveryResult> =>
        Promise.resolve(e.id === "retried" && n === 1 ? status(503) : OK);
      start(a, "A", key, finished, { ...slow, attempt });
      await dead.add(entry("retried"));
      await until(() => finished.length === 2, "the retry made 50 ms later and the held entry taken over after its lease");
      const byId = new Map(finished.map((f) => [f.id, f]));
      assert.deepEqual(byId.get("retried"), { id: "retried", attempts: 2, finish: "delivered", by: "A" });
      assert.deepEqual(byId.get("held"), { id: "held", attempts: 1, finish: "delivered", by: "A" });
    });
  });
});
