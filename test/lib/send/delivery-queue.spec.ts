import assert from "node:assert/strict";
import fc from "fast-check";
import type { DeliveryResult } from "../../../nodes/lib/send/deliver";
import {
  DeliveryQueue,
  DueHeap,
  MAX_TIMER_MS,
  systemClock,
  type Clock,
  type DeliveryQueueOptions,
  type Finish,
  type Timer,
} from "../../../nodes/lib/send/delivery-queue";

const reply = (statusCode: number, retryAfterSeconds?: number): DeliveryResult => {
  const result: DeliveryResult = { outcome: { kind: "response", statusCode }, statusCode };
  if (retryAfterSeconds !== undefined) result.retryAfterSeconds = retryAfterSeconds;
  return result;
};

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Finished {
  id: string;
  attempts: number;
  finish: Finish;
  result: DeliveryResult;
}

interface Retried {
  id: string;
  attempts: number;
  dueAt: number;
  error?: string;
  statusCode?: number;
}

/** A queue whose finishes and retries are recorded; `finished(n)` resolves once n callbacks are done. */
function recordingQueue(options: Pick<DeliveryQueueOptions, "attempt"> & Partial<DeliveryQueueOptions>) {
  const finishes: Finished[] = [];
  const retries: Retried[] = [];
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  const queue = new DeliveryQueue({
    concurrency: 1,
    schedule: [],
    retry4xx: true,
    random: () => 0.5, // no jitter: delays are exactly the schedule's
    ...options,
    onRetry: (id, attempts, dueAt, result) => {
      const retried: Retried = { id, attempts, dueAt };
      if (result.error !== undefined) retried.error = result.error;
      if (result.statusCode !== undefined) retried.statusCode = result.statusCode;
      retries.push(retried);
      options.onRetry?.(id, attempts, dueAt, result);
    },
    onFinish: (id, attempts, result, finish) => {
      finishes.push({ id, attempts, result, finish });
      for (const waiter of waiters.filter((w) => finishes.length >= w.count)) waiter.resolve();
      options.onFinish?.(id, attempts, result, finish);
    },
  });
  const finished = (count: number): Promise<void> =>
    finishes.length >= count ? Promise.resolve() : new Promise((resolve) => waiters.push({ count, resolve }));
  return { queue, finishes, retries, finished };
}

/**
 * Virtual time on real timers: each timer fires after a real millisecond, and time jumps to the
 * moment it was set for. Waits of hours (or past setTimeout's limit) run at once, in order.
 */
function virtualClock(start = Date.parse("2026-01-01T00:00:00Z")) {
  let now = start;
  const delays: number[] = [];
  const live = new Set<Timer>();
  const clock: Clock = {
    now: () => now,
    setTimer: (callback, ms) => {
      delays.push(ms);
      const firesAt = now + ms;
      const timer = setTimeout(() => {
        live.delete(timer);
        now = Math.max(now, firesAt);
        callback();
      }, 1);
      live.add(timer);
      return timer;
    },
    clearTimer: (timer) => {
      live.delete(timer);
      clearTimeout(timer);
    },
  };
  return { clock, delays, live, start, advance: (ms: number) => void (now += ms) };
}

/** A queue on virtual time whose attempts all succeed, recording the (virtual) time of each. */
function onVirtualTime() {
  const time = virtualClock();
  const attemptedAt: number[] = [];
  const recorded = recordingQueue({
    clock: time.clock,
    attempt: async () => {
      attemptedAt.push(time.clock.now());
      return reply(200);
    },
  });
  return { time, attemptedAt, ...recorded };
}

describe("lib/delivery-queue", () => {
  it("keeps a min-heap on dueAt: pops come out in due order whatever the push order", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1_000_000 }), { maxLength: 200 }), (dues) => {
        const heap = new DueHeap();
        dues.forEach((dueAt, i) => heap.push({ dueAt, id: String(i) }));
        assert.equal(heap.length, dues.length);
        const popped: number[] = [];
        for (let item = heap.pop(); item; item = heap.pop()) popped.push(item.dueAt);
        assert.deepEqual(
          popped,
          [...dues].sort((a, b) => a - b),
        );
        assert.equal(heap.peek(), undefined);
      }),
    );
  });

  it("never has more than `concurrency` attempts in flight, and uses all of them", async () => {
    let inFlight = 0;
    let most = 0;
    const attempted: string[] = [];
    const { queue, finishes, finished } = recordingQueue({
      concurrency: 3,
      attempt: async (id) => {
        attempted.push(id);
        inFlight += 1;
        most = Math.max(most, inFlight);
        await pause(1 + (attempted.length % 4));
        inFlight -= 1;
        return reply(200);
      },
    });
    const now = Date.now();
    queue.scheduleAll(Array.from({ length: 20 }, (_, i) => ({ id: `c${i}`, dueAt: now, attempts: 0 })));
    assert.equal(queue.inFlight, 3, "three start at once");
    await finished(20);
    assert.equal(most, 3);
    assert.equal(attempted.length, 20, "each callback tried once");
    assert.equal(new Set(attempted).size, 20);
    assert.ok(finishes.every((f) => f.finish === "delivered" && f.attempts === 1));
    assert.equal(queue.size, 0);
    assert.equal(queue.inFlight, 0);
  });

  it("starts callbacks in due order, none before its time", async () => {
    const started: Array<{ id: string; at: number }> = [];
    const { queue, finished } = recordingQueue({
      attempt: async (id) => {
        started.push({ id, at: Date.now() });
        return reply(204);
      },
    });
    const now = Date.now();
    const offsets: Record<string, number> = { d: 40, b: 10, c: 25, a: 0, e: 60 };
    queue.scheduleAll(Object.entries(offsets).map(([id, offset]) => ({ id, dueAt: now + offset, attempts: 0 })));
    await finished(5);
    assert.deepEqual(
      started.map((s) => s.id),
      ["a", "b", "c", "d", "e"],
    );
    for (const { id, at } of started) assert.ok(at >= now + (offsets[id] ?? 0), `${id} started before it was due`);
  });

  it("a callback scheduled later but due sooner goes first", async () => {
    const started: string[] = [];
    const { queue, finished } = recordingQueue({
      attempt: async (id) => {
        started.push(id);
        return reply(200);
      },
    });
    const now = Date.now();
    queue.schedule({ id: "late", dueAt: now + 80, attempts: 0 });
    queue.schedule({ id: "soon", dueAt: now + 5, attempts: 0 });
    await finished(2);
    assert.deepEqual(started, ["soon", "late"]);
  });

  it("scheduling a queued id again moves it to the new time, and it runs once", async () => {
    const { time, attemptedAt, queue, finished } = onVirtualTime();
    queue.schedule({ id: "moved", dueAt: time.start + 1_000, attempts: 0 });
    queue.schedule({ id: "moved", dueAt: time.start + 5_000, attempts: 0 });
    await finished(1);
    assert.deepEqual(attemptedAt, [time.start + 5_000]);
    assert.equal(queue.size, 0);
  });

  it("nextDue() is the waiting callback due first: not one in flight, not an old time of a moved one", async () => {
    let release: (() => void) | undefined;
    const { queue, finished } = recordingQueue({
      attempt: (id) =>
        id === "now" ? new Promise<DeliveryResult>((resolve) => (release = () => resolve(reply(200)))) : Promise.resolve(reply(200)),
    });
    assert.equal(queue.nextDue(), undefined);
    const now = Date.now();
    queue.scheduleAll([
      { id: "now", dueAt: now, attempts: 0 },
      { id: "later", dueAt: now + 60_000, attempts: 2 },
      { id: "moved", dueAt: now + 30_000, attempts: 1 },
    ]);
    assert.equal(queue.inFlight, 1);
    assert.deepEqual(queue.nextDue(), { id: "moved", dueAt: now + 30_000, attempts: 1 });
    queue.schedule({ id: "moved", dueAt: now + 90_000, attempts: 1 });
    assert.deepEqual(queue.nextDue(), { id: "later", dueAt: now + 60_000, attempts: 2 });
    release?.();
    await finished(1);
    assert.deepEqual(queue.nextDue(), { id: "later", dueAt: now + 60_000, attempts: 2 });
    queue.stop();
  });

  it("caps each timer at setTimeout's maximum and re-arms until the callback is due", async () => {
    const { time, attemptedAt, queue, finished } = onVirtualTime();
    const dueAt = time.start + 2 * MAX_TIMER_MS + 1000;
    queue.schedule({ id: "far", dueAt, attempts: 0 });
    await finished(1);
    assert.deepEqual(time.delays, [MAX_TIMER_MS, MAX_TIMER_MS, 1000]);
    assert.deepEqual(attemptedAt, [dueAt]);
  });

  it("retries on the schedule with the same id, then reports delivered with the attempt count", async () => {
    const time = virtualClock();
    const answers = [500, 503, 200];
    const attempts: number[] = [];
    const { queue, finishes, retries, finished } = recordingQueue({
      clock: time.clock,
      schedule: [5, 300, 1800],
      attempt: async (_id, attempt) => {
        attempts.push(attempt);
        return reply(answers.shift() ?? 599);
      },
    });
    queue.schedule({ id: "x", dueAt: time.start, attempts: 0 });
    await finished(1);
    assert.deepEqual(attempts, [1, 2, 3]);
    assert.deepEqual(retries, [
      { id: "x", attempts: 1, dueAt: time.start + 5_000, statusCode: 500 },
      { id: "x", attempts: 2, dueAt: time.start + 5_000 + 300_000, statusCode: 503 },
    ]);
    assert.equal(finishes.length, 1);
    assert.deepEqual({ ...finishes[0], result: undefined }, { id: "x", attempts: 3, finish: "delivered", result: undefined });
    assert.equal(finishes[0]?.result.statusCode, 200);
  });

  it("resumes the attempt count of a callback queued before a restart", async () => {
    const attempts: number[] = [];
    const { queue, finishes, retries, finished } = recordingQueue({
      schedule: [0.001, 0.001, 0.001],
      attempt: async (_id, attempt) => {
        attempts.push(attempt);
        return reply(500);
      },
    });
    queue.schedule({ id: "old", dueAt: Date.now(), attempts: 2 });
    await finished(1);
    assert.deepEqual(attempts, [3, 4]);
    assert.deepEqual(
      retries.map((r) => r.attempts),
      [3],
    );
    assert.equal(finishes[0]?.finish, "gave-up");
    assert.equal(finishes[0]?.attempts, 4);
  });

  it("gives up when the schedule is exhausted, at once on 410, and on 4xx without retry4xx", async () => {
    const cases: Array<{ codes: number[]; retry4xx: boolean; attempts: number; finish: Finish }> = [
      { codes: [500, 500, 500], retry4xx: true, attempts: 3, finish: "gave-up" },
      { codes: [410], retry4xx: true, attempts: 1, finish: "gave-up" },
      { codes: [400], retry4xx: false, attempts: 1, finish: "gave-up" },
      { codes: [400, 200], retry4xx: true, attempts: 2, finish: "delivered" },
      { codes: [302], retry4xx: true, attempts: 1, finish: "gave-up" },
    ];
    for (const c of cases) {
      const codes = [...c.codes];
      const { queue, finishes, finished } = recordingQueue({
        retry4xx: c.retry4xx,
        schedule: [0.001, 0.001],
        attempt: async () => reply(codes.shift() ?? 599),
      });
      queue.schedule({ id: "y", dueAt: Date.now(), attempts: 0 });
      await finished(1);
      assert.equal(finishes[0]?.finish, c.finish, JSON.stringify(c));
      assert.equal(finishes[0]?.attempts, c.attempts, JSON.stringify(c));
      assert.equal(codes.length, 0, `every answer used: ${JSON.stringify(c)}`);
    }
  });

  it("waits for Retry-After when it is longer than the scheduled delay", async () => {
    const time = virtualClock();
    const codes = [429, 200];
    const { queue, retries, finished } = recordingQueue({
      clock: time.clock,
      schedule: [5],
      attempt: async () => reply(codes.shift() ?? 599, 120),
    });
    queue.schedule({ id: "z", dueAt: time.start, attempts: 0 });
    await finished(1);
    assert.equal(retries[0]?.dueAt, time.start + 120_000);
  });

  it("counts an attempt that throws as a network error, retried", async () => {
    let calls = 0;
    const { queue, retries, finishes, finished } = recordingQueue({
      schedule: [0.001],
      attempt: async () => {
        calls += 1;
        if (calls === 1) throw new Error("no socket today");
        return reply(200);
      },
    });
    queue.schedule({ id: "t", dueAt: Date.now(), attempts: 0 });
    await finished(1);
    assert.equal(retries[0]?.error, "no socket today");
    assert.equal(finishes[0]?.finish, "delivered");
    assert.equal(finishes[0]?.attempts, 2);
  });

  it("stop() clears the timer, starts nothing more, and reports nothing for attempts in flight", async () => {
    const live = new Set<Timer>();
    const clock: Clock = {
      now: systemClock.now,
      setTimer: (callback, ms) => {
        const timer = systemClock.setTimer(() => {
          live.delete(timer);
          callback();
        }, ms);
        live.add(timer);
        return timer;
      },
      clearTimer: (timer) => {
        live.delete(timer);
        systemClock.clearTimer(timer);
      },
    };
    let release: (result: DeliveryResult) => void = () => undefined;
    const attempted: string[] = [];
    let changes = 0;
    const { queue, finishes, retries } = recordingQueue({
      clock,
      schedule: [0.001],
      onChange: () => void (changes += 1),
      attempt: (id) => {
        attempted.push(id);
        return new Promise<DeliveryResult>((resolve) => (release = resolve));
      },
    });
    const now = Date.now();
    queue.scheduleAll([
      { id: "now", dueAt: now, attempts: 0 },
      { id: "later", dueAt: now + 60_000, attempts: 0 },
    ]);
    assert.deepEqual(attempted, ["now"]);
    assert.equal(queue.inFlight, 1);
    assert.equal(live.size, 0, "no timer while every slot is busy");

    const { queue: idle } = recordingQueue({ clock, attempt: async () => reply(200) });
    idle.schedule({ id: "idle", dueAt: now + 60_000, attempts: 0 });
    assert.equal(live.size, 1, "a timer for the one not yet due");
    idle.stop();
    assert.equal(live.size, 0, "stop() cleared it");

    queue.stop();
    const changesAtStop = changes;
    release(reply(500));
    // The attempt's promise settles and its continuation runs within a few turns of the event loop.
    for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(queue.inFlight, 0, "the attempt came back");
    queue.schedule({ id: "after-stop", dueAt: Date.now(), attempts: 0 });
    assert.deepEqual(attempted, ["now"]);
    assert.equal(finishes.length, 0);
    assert.equal(retries.length, 0);
    assert.equal(changes, changesAtStop);
    assert.equal(live.size, 0);
  });
});
