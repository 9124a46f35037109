// Pause and pace per receiver shared through a real redis-server: two StoreQueues (two instances
// of one flow) with their own StoreReceiverHealth over the same store, against a scripted receiver.
// The pause, its test attempts, the pace and a Retry-After hold count for both together.
import assert from "node:assert/strict";
import type { DeliveryResult } from "../../../nodes/lib/send/deliver";
import type { Finish } from "../../../nodes/lib/send/delivery-queue";
import type { OutboxEntry } from "../../../nodes/lib/outbox/types";
import type { ReceiverRule } from "../../../nodes/lib/send/receiver-health";
import { StoreOutbox } from "../../../nodes/lib/outbox/store-outbox";
import { StoreQueue } from "../../../nodes/lib/send/store-queue";
import { StoreReceiverHealth, readReceiverState } from "../../../nodes/lib/send/store-receiver-health";
import { SharedRecords } from "../../../nodes/lib/store/shared-records";
import type { StoreConnection } from "../../../nodes/lib/store/connection";
import { RedisServer } from "../../support/redis-server";
import { openStore } from "../../support/store";

const OK: DeliveryResult = { outcome: { kind: "response", statusCode: 200 }, statusCode: 200 };
const DOWN: DeliveryResult = { outcome: { kind: "response", statusCode: 503 }, statusCode: 503 };

function entry(id: string): OutboxEntry {
  const now = Date.now();
  return { id, executionId: `exec_${id}`, body: "{}", attempts: 0, dueAt: now, createdAt: now };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out: ${what}`);
    await sleep(20);
  }
}

interface Attempt {
  id: string;
  at: number;
  by: string;
}

describe("lib/send/store-receiver-health: pause and pace shared by two instances (real redis-server)", () => {
  const redis = new RedisServer();
  const connections: StoreConnection[] = [];
  const running: StoreQueue[] = [];
  let queue = 0;
  before(async () => {
    await redis.start();
    connections.push(await openStore(redis.url, "p:"), await openStore(redis.url, "p:"));
  });
  let current: { storeErrors: string[] } | undefined;
  afterEach(async () => {
    await Promise.all(running.splice(0).map((d) => d.stop().catch(() => undefined)));
    assert.deepEqual(current?.storeErrors ?? [], [], "no store error");
  });
  after(async () => {
    await Promise.all(connections.map((c) => c.close()));
    await redis.stop();
    redis.cleanup();
  });

  /** Two instances of one node's queue, each with its own gate over the shared receiver records. */
  function twoInstances(rule: ReceiverRule, reply: (attempt: Attempt) => DeliveryResult, schedule: number[] = [0.05, 0.05], single = true) {
    const queueKey = `p:q${++queue}`;
    const attempts: Attempt[] = [];
    const finished: Array<{ id: string; finish: Finish; attempts: number }> = [];
    const changes: string[] = [];
    const storeErrors: string[] = [];
    const gates: StoreReceiverHealth[] = [];
    const outboxes = connections.map((connection, i) => {
      const by = i === 0 ? "A" : "B";
      const outbox = new StoreOutbox(connection, { queueKey, leaseMs: 60_000, holder: by });
      const gate = new StoreReceiverHealth(new SharedRecords(connection, outbox.receiversKey, readReceiverState), rule, (_, change) =>
        changes.push(`${change.kind} by ${by}`),
      );
      gates.push(gate);
      const delivery = new StoreQueue({
        outbox,
        concurrency: 4,
        schedule,
        retry4xx: false,
        pollMs: 20,
        random: () => 0.5,
        attempt: (e) => {
          const attempt = { id: e.id, at: Date.now(), by };
          attempts.push(attempt);
          return Promise.resolve(reply(attempt));
        },
        onFinish: (e, n, _result, finish) => finished.push({ id: e.id, finish, attempts: n }),
        onStoreError: (err) => storeErrors.push(err.message),
        receivers: { of: (e) => e.url ?? "http://127.0.0.1:9", gate, single },
      });
      running.push(delivery);
      delivery.start();
      return outbox;
    });
    current = { storeErrors };
    return { queueKey, attempts, finished, changes, gates, storeErrors, outbox: outboxes[0] as StoreOutbox };
  }

  /** Scripts the store has run so far (every queue operation is one). */
  const scriptCalls = async (): Promise<number> => {
    const info = String(await (connections[0] as StoreConnection).sendCommand(["INFO", "commandstats"]));
    return [...info.matchAll(/cmdstat_(?:evalsha|eval):calls=(\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
  };

  for (const [single, count] of [
    [true, 200],
    [false, 100],
  ] as const) {
    const kind = single ? "the node's URL" : "msg.url";
    it(`pauses the receiver for both, one test per pauseFor between them, none gives up, all ${count} delivered once after it recovers (${kind})`, async () => {
      let failing = true;
      const run = twoInstances({ pauseAfter: 2, pauseForMs: 300, maxRate: 0 }, () => (failing ? DOWN : OK), [0.05, 0.05], single);
      for (let i = 0; i < count; i++) await run.outbox.add(entry(`e${i}`));
      await until(() => run.changes.length > 0, "paused");
      const pausedAt = Date.now();
      await sleep(500);
      // The waiting callbacks are not taken and given back over and over while their receiver is paused.
      const calls = await scriptCalls();
      // The schedule [0.05, 0.05] would give every callback up within 0.2 s if paused time counted.
      await sleep(1500);
      const scripts = (await scriptCalls()) - calls;
      assert.ok(scripts < 150, `${scripts} store scripts in 1.5 s of pause`);
      assert.equal(run.finished.length, 0, "none gave up while the receiver was paused");
      assert.deepEqual(run.changes.length, 1, `paused once, by one instance: ${run.changes.join(", ")}`);
      // The instance that did not pause it reads the pause from the store.
      await Promise.all(run.gates.map((g) => g.refresh()));
      assert.ok(run.gates.every((g) => g.paused()?.receiver === "http://127.0.0.1:9"));
      // Attempts already started when the pause came may still arrive just after it; then one per 300 ms.
      const tests = run.attempts.filter((a) => a.at > pausedAt + 50);
      for (let i = 1; i < tests.length; i++) {
        const gap = (tests[i] as Attempt).at - (tests[i - 1] as Attempt).at;
        assert.ok(gap >= 280, `test attempts ${gap} ms apart across both instances (pauseFor 300 ms)`);
      }
      assert.ok(tests.length >= 4 && tests.length <= 8, `${tests.length} test attempts in about 2 s`);
      assert.ok(run.attempts.length <= 8 + 8, `${run.attempts.length} attempts in all during the outage`);

      failing = false;
      await until(() => run.finished.length === count, `all ${count} delivered after the receiver recovered`);
      assert.ok(run.finished.every((f) => f.finish === "delivered"));
      assert.equal(new Set(run.finished.map((f) => f.id)).size, count);
      assert.equal(run.changes.length, 2);
      assert.match(run.changes[1] as string, /^resumed/);
      // A receiver that works again leaves nothing in the store.
      const receivers = `${run.queueKey}:receivers`;
      await until(async () => Number(await (connections[0] as StoreConnection).sendCommand(["HLEN", receivers])) === 0, "record removed");
    });
  }

  it("with msg.url, a paused receiver's waiting callbacks do not hold up another receiver's", async () => {
    const run = twoInstances({ pauseAfter: 2, pauseForMs: 5000, maxRate: 0 }, (a) => (a.id.startsWith("x") ? DOWN : OK), [60], false);
    for (let i = 0; i < 150; i++) await run.outbox.add({ ...entry(`x${i}`), url: "http://x.invalid" });
    await until(() => run.changes.length > 0, "x paused");
    for (let i = 0; i < 10; i++) await run.outbox.add({ ...entry(`y${i}`), url: "http://y.invalid" });
    await until(() => run.finished.length === 10, "y's delivered while x is paused", 3000);
    assert.ok(run.finished.every((f) => f.id.startsWith("y") && f.finish === "delivered"));
  });

  it("a test attempt whose instance stopped before it ended frees the way for another instance's test after pauseFor", async () => {
    const rule: ReceiverRule = { pauseAfter: 1, pauseForMs: 300, maxRate: 0 };
    const key = `p:q${++queue}:receivers`;
    const [first, second] = connections.map(
      (c) => new StoreReceiverHealth(new SharedRecords(c, key, readReceiverState), rule, () => undefined),
    );
    const a = first as StoreReceiverHealth;
    const b = second as StoreReceiverHealth;
    const receiver = "http://127.0.0.1:9";
    const t0 = Date.now();
    await a.settle(receiver, "failed", undefined, false, t0);
    // A takes the test at t0 + 300 and never says how it ended (its process was killed).
    assert.deepEqual(await a.admit(receiver, 1, t0 + 300), [{ go: true, test: true }]);
    assert.deepEqual(await b.admit(receiver, 1, t0 + 400), [{ go: false, until: t0 + 600 }]);
    assert.deepEqual(await b.admit(receiver, 1, t0 + 600), [{ go: true, test: true }]);
    await b.settle(receiver, "delivered", undefined, true, t0 + 650);
    assert.deepEqual(await a.admit(receiver, 3, t0 + 700), [
      { go: true, test: false },
      { go: true, test: false },
      { go: true, test: false },
    ]);
  });

  it("a failed test attempt keeps its callback's attempts: it gives up only after its own schedule", async () => {
    const run = twoInstances({ pauseAfter: 1, pauseForMs: 100, maxRate: 0 }, () => DOWN, [0.05]);
    await run.outbox.add(entry("only"));
    await sleep(1500);
    // Attempt 1 failed and paused the receiver; every later attempt is a test that goes back untouched.
    assert.ok(run.attempts.length >= 5, `${run.attempts.length} attempts`);
    assert.equal(run.finished.length, 0, "a callback never gives up while its receiver is paused");
    const json = (await (connections[0] as StoreConnection).sendCommand(["HGET", `${run.queueKey}:entries`, "only"])) as string;
    assert.equal((JSON.parse(json) as { attempts: number }).attempts, 1);
  });

  it("paces both instances together to maxRate", async () => {
    const run = twoInstances({ pauseAfter: 10, pauseForMs: 1000, maxRate: 20 }, () => OK);
    for (let i = 0; i < 40; i++) await run.outbox.add(entry(`r${i}`));
    await until(() => run.finished.length === 40, "40 delivered", 8000).catch(async (e) => {
      console.log(
        run.attempts.length,
        run.finished.length,
        await (connections[0] as StoreConnection).sendCommand(["HGETALL", `${run.queueKey}:receivers`]),
        await (connections[0] as StoreConnection).sendCommand(["ZRANGE", `${run.queueKey}:due`, "0", "-1", "WITHSCORES"]),
        Date.now(),
        await (connections[0] as StoreConnection).sendCommand(["HGETALL", `${run.queueKey}:lease`]),
      );
      throw e;
    });
    const times = run.attempts.map((a) => a.at).sort((x, y) => x - y);
    for (let i = 20; i < times.length; i++) {
      const window = (times[i] as number) - (times[i - 20] as number);
      assert.ok(window >= 950, `attempts ${i - 19} to ${i + 1} within ${window} ms (maxRate 20 for both)`);
    }
    assert.equal(new Set(run.attempts.map((a) => a.by)).size, 2, "both instances delivered");
  });

  it("a 503 with Retry-After holds the receiver for both instances, not only that callback", async () => {
    let first = true;
    const run = twoInstances({ pauseAfter: 0, pauseForMs: 1000, maxRate: 0 }, () => {
      if (!first) return OK;
      first = false;
      return { ...DOWN, retryAfterSeconds: 1 };
    });
    await run.outbox.add(entry("answered-503"));
    await until(() => run.attempts.length === 1, "first attempt");
    const heldAt = (run.attempts[0] as Attempt).at;
    await sleep(100);
    for (let i = 0; i < 6; i++) await run.outbox.add(entry(`later${i}`));
    await until(() => run.finished.length === 7, "all delivered");
    for (const attempt of run.attempts.slice(1)) {
      assert.ok(attempt.at - heldAt >= 990, `${attempt.id} by ${attempt.by} tried ${attempt.at - heldAt} ms after the Retry-After: 1`);
    }
  });
});
