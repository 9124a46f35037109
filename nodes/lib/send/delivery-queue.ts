// The delivery scheduler: keeps at most `concurrency` attempts in flight, starts each callback
// when it is due (earliest first), and after each attempt decides with retry-policy whether it
// was delivered, is tried again later, or is given up. It holds only ids and times; what an
// attempt sends, where the journal is and what the node shows are the caller's, passed in.
import type { DeliveryResult } from "./deliver";
import { decide } from "./retry-policy";

/** setTimeout fires at once for delays past 2^31-1 ms; longer waits re-arm. */
export const MAX_TIMER_MS = 2_147_483_647;

export type Timer = ReturnType<typeof setTimeout>;

/** Time and timers, injectable so tests can move time without waiting for it. */
export interface Clock {
  now(): number;
  setTimer(callback: () => void, ms: number): Timer;
  clearTimer(timer: Timer): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer: (callback, ms) => setTimeout(callback, ms),
  clearTimer: (timer) => clearTimeout(timer),
};

/** A callback waiting in the queue. */
export interface QueuedCallback {
  id: string;
  /** Epoch milliseconds of its next attempt. */
  dueAt: number;
  /** Attempts already made (0 for a new callback; more after a restart). */
  attempts: number;
  /**
   * A manual attempt ("retry now"): where the callback goes back to when it fails, so that presses
   * never use up the schedule nor give it up.
   */
  restore?: { attempts: number; dueAt: number };
}

export type Finish = "delivered" | "gave-up";

export interface DeliveryQueueOptions {
  /** Attempts in flight at most. */
  concurrency: number;
  /** Delays in seconds before attempts 2, 3, ... */
  schedule: readonly number[];
  retry4xx: boolean;
  /** One attempt; `attempt` counts from 1. A rejection counts as a network error (retried). */
  attempt(id: string, attempt: number): Promise<DeliveryResult>;
  /** A failed attempt is to be retried at `dueAt` (the caller makes that durable). */
  onRetry(id: string, attempts: number, dueAt: number, result: DeliveryResult): void;
  /** The callback is done: delivered, or given up (schedule exhausted, 410, a 4xx not retried). */
  onFinish(id: string, attempts: number, result: DeliveryResult, finish: Finish): void;
  /** After every pass over the queue: something may have changed for the node's status. */
  onChange?(): void;
  clock?: Clock;
  /** For the ±20 % jitter on each delay. */
  random?: () => number;
}

interface HeapItem {
  dueAt: number;
  id: string;
}

/** Min-heap on dueAt: the next-due lookup stays cheap with 10,000 callbacks queued. */
export class DueHeap {
  private items: HeapItem[] = [];
  get length(): number {
    return this.items.length;
  }
  peek(): HeapItem | undefined {
    return this.items[0];
  }
  push(item: HeapItem): void {
    const items = this.items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = items[parent] as HeapItem;
      if (p.dueAt <= item.dueAt) break;
      items[i] = p;
      i = parent;
    }
    items[i] = item;
  }
  pop(): HeapItem | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= items.length) break;
        const right = left + 1;
        const child = right < items.length && (items[right] as HeapItem).dueAt < (items[left] as HeapItem).dueAt ? right : left;
        if ((items[child] as HeapItem).dueAt >= last.dueAt) break;
        items[i] = items[child] as HeapItem;
        i = child;
      }
      items[i] = last;
    }
    return top;
  }
}

export class DeliveryQueue {
  private readonly heap = new DueHeap();
  /** Every callback not yet finished, in flight or waiting. A heap item is stale unless it matches. */
  private readonly pending = new Map<string, QueuedCallback>();
  private readonly running = new Set<string>();
  private readonly clock: Clock;
  private timer: Timer | undefined;
  private stopped = false;

  constructor(private readonly options: DeliveryQueueOptions) {
    this.clock = options.clock ?? systemClock;
  }

  /** Callbacks not yet finished (in flight included). */
  get size(): number {
    return this.pending.size;
  }

  /** Attempts in flight now. */
  get inFlight(): number {
    return this.running.size;
  }

  /** The waiting callback due first (not one in flight), for the node's status; drops stale heap items on the way. */
  nextDue(): QueuedCallback | undefined {
    for (let top = this.heap.peek(); top; top = this.heap.peek()) {
      const callback = this.current(top);
      if (callback) return { ...callback };
      this.heap.pop();
    }
    return undefined;
  }

  /** Queues one callback (an id already waiting moves to the new time); it starts when due and a slot is free. */
  schedule(callback: QueuedCallback): void {
    this.scheduleAll([callback]);
  }

  /** Queues many (all of them before the first ones start, so due order holds on replay). */
  scheduleAll(callbacks: Iterable<QueuedCallback>): void {
    if (this.stopped) return;
    for (const callback of callbacks) {
      this.pending.set(callback.id, { ...callback });
      this.heap.push({ dueAt: callback.dueAt, id: callback.id });
    }
    this.pump();
  }

  /** Forgets a waiting callback (its heap item goes stale); false when it is in flight or not queued. */
  remove(id: string): boolean {
    if (this.running.has(id) || !this.pending.delete(id)) return false;
    this.options.onChange?.();
    return true;
  }

  /** Whether an attempt of callback `id` is in flight now. */
  isRunning(id: string): boolean {
    return this.running.has(id);
  }

  /**
   * Stops for good: no more attempts start, the timer is cleared, and attempts still in flight
   * report nothing (their callbacks stay as the caller's journal has them, for after a restart).
   */
  stop(): void {
    this.stopped = true;
    if (this.timer) this.clock.clearTimer(this.timer);
    this.timer = undefined;
  }

  /** The waiting callback a heap item stands for, unless the item is stale. */
  private current(item: HeapItem): QueuedCallback | undefined {
    const callback = this.pending.get(item.id);
    return callback && callback.dueAt === item.dueAt && !this.running.has(item.id) ? callback : undefined;
  }

  private pump(): void {
    if (this.stopped) return;
    const { concurrency } = this.options;
    const now = this.clock.now();
    while (this.running.size < concurrency) {
      const top = this.heap.peek();
      if (!top) break;
      if (!this.current(top)) {
        this.heap.pop();
        continue;
      }
      if (top.dueAt > now) break;
      this.heap.pop();
      const callback = this.current(top);
      if (callback) void this.run(callback);
    }
    if (this.timer) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    const next = this.heap.peek();
    if (next && this.running.size < concurrency) {
      this.timer = this.clock.setTimer(() => this.pump(), Math.min(Math.max(0, next.dueAt - now), MAX_TIMER_MS));
    }
    this.options.onChange?.();
  }

  private async run(callback: QueuedCallback): Promise<void> {
    const { id } = callback;
    this.running.add(id);
    const attempts = callback.attempts + 1;
    let result: DeliveryResult;
    try {
      result = await this.options.attempt(id, attempts);
    } catch (err) {
      // attempt() reports failures as outcomes; this is for anything unforeseen before the request.
      const error = err instanceof Error ? err.message : String(err);
      result = { outcome: { kind: "network", error }, error };
    } finally {
      this.running.delete(id);
    }
    if (this.stopped) return;
    const decision = decide(result, attempts, this.options, callback.restore !== undefined);
    if (decision.kind === "delivered") {
      this.pending.delete(id);
      this.options.onFinish(id, attempts, result, "delivered");
    } else if (decision.kind === "back" && callback.restore) {
      const { restore } = callback;
      this.pending.set(id, { id, dueAt: restore.dueAt, attempts: restore.attempts });
      this.options.onRetry(id, restore.attempts, restore.dueAt, result);
      this.heap.push({ dueAt: restore.dueAt, id });
    } else if (decision.kind === "retry") {
      const dueAt = this.clock.now() + decision.delayMs;
      this.pending.set(id, { id, dueAt, attempts });
      this.options.onRetry(id, attempts, dueAt, result);
      this.heap.push({ dueAt, id });
    } else {
      this.pending.delete(id);
      this.options.onFinish(id, attempts, result, "gave-up");
    }
    this.pump();
  }
}
