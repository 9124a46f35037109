// The delivery scheduler: keeps at most `concurrency` attempts in flight, starts each callback
// when it is due (earliest first), and after each attempt decides with retry-policy whether it
// was delivered, is tried again later, or is given up. It holds only ids and times; what an
// attempt sends, where the journal is and what the node shows are the caller's, passed in.
import type { DeliveryResult } from "./deliver";
import { DueHeap, type HeapItem } from "./due-heap";
import type { Admission, AttemptEnd } from "./receiver-health";
import { attemptEnd, decide } from "./retry-policy";

export { DueHeap } from "./due-heap";

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

/** Pause and pace per receiver (receiver-health.ts): asked before each attempt, told after it. */
export interface ReceiverGate {
  admit(receiver: string, now: number): Admission;
  settle(receiver: string, end: AttemptEnd, holdSeconds: number | undefined, test: boolean, now: number): void;
}

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
  /** The receiver (origin) callback `id` goes to, and the gate each receiver's attempts pass. */
  receivers?: { of(id: string): string; gate: ReceiverGate } | undefined;
  clock?: Clock;
  /** For the ±20 % jitter on each delay. */
  random?: () => number;
}

/** A callback taken to start, and whether it is its paused receiver's test attempt. */
interface Started {
  callback: QueuedCallback;
  test: boolean;
}

export class DeliveryQueue {
  private readonly heap = new DueHeap();
  /** Every callback not yet finished, in flight or waiting. A heap item is stale unless it matches. */
  private readonly pending = new Map<string, QueuedCallback>();
  private readonly running = new Set<string>();
  private readonly clock: Clock;
  private timer: Timer | undefined;
  private stopped = false;
  /** Due callbacks whose receiver is paused or paced, per receiver, in due order. */
  private readonly held = new Map<string, QueuedCallback[]>();

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
    let heldUntil = Infinity;
    const hold = (until: number): void => void (heldUntil = Math.min(heldUntil, until));
    while (this.running.size < concurrency) {
      const next = this.takeHeld(now, hold) ?? this.takeDue(now, hold);
      if (!next) break;
      void this.run(next.callback, next.test);
    }
    if (this.timer) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    const next = this.heap.peek();
    const wakeAt = Math.min(next ? next.dueAt : Infinity, heldUntil);
    if (wakeAt !== Infinity && this.running.size < concurrency) {
      this.timer = this.clock.setTimer(() => this.pump(), Math.min(Math.max(0, wakeAt - now), MAX_TIMER_MS));
    }
    this.options.onChange?.();
  }

  /** A held callback whose receiver lets an attempt through now; `hold` learns when the others may go. */
  private takeHeld(now: number, hold: (until: number) => void): Started | undefined {
    const gate = this.options.receivers?.gate;
    for (const [receiver, callbacks] of this.held) {
      // Callbacks removed or rescheduled meanwhile (cancelled, "retry now") are dropped here.
      while (callbacks.length > 0 && this.pending.get((callbacks[0] as QueuedCallback).id) !== callbacks[0]) callbacks.shift();
      const first = callbacks[0];
      if (!first || !gate) {
        this.held.delete(receiver);
        continue;
      }
      const admission = gate.admit(receiver, now);
      if (!admission.go) hold(admission.until);
      else {
        callbacks.shift();
        return { callback: first, test: admission.test };
      }
    }
    return undefined;
  }

  /** The next due callback from the heap that may start now; those of a held receiver wait with it. */
  private takeDue(now: number, hold: (until: number) => void): Started | undefined {
    const receivers = this.options.receivers;
    for (let top = this.heap.peek(); top && top.dueAt <= now; top = this.heap.peek()) {
      this.heap.pop();
      const callback = this.current(top);
      if (!callback) continue;
      if (!receivers) return { callback, test: false };
      const receiver = receivers.of(callback.id);
      const waiting = this.held.get(receiver);
      if (waiting) {
        waiting.push(callback);
        continue;
      }
      const admission = receivers.gate.admit(receiver, now);
      if (admission.go) return { callback, test: admission.test };
      hold(admission.until);
      this.held.set(receiver, [callback]);
    }
    return undefined;
  }

  private async run(callback: QueuedCallback, test: boolean): Promise<void> {
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
    const receivers = this.options.receivers;
    if (receivers) {
      const { end, holdSeconds } = attemptEnd(result, this.options.retry4xx);
      receivers.gate.settle(receivers.of(id), end, holdSeconds, test, this.clock.now());
    }
    // A failed test attempt goes back to where it was, like a manual one.
    const restore = callback.restore ?? (test ? { attempts: callback.attempts, dueAt: callback.dueAt } : undefined);
    const decision = decide(result, attempts, this.options, callback.restore !== undefined, test);
    if (decision.kind === "delivered") {
      this.pending.delete(id);
      this.options.onFinish(id, attempts, result, "delivered");
    } else if (decision.kind === "back" && restore) {
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
