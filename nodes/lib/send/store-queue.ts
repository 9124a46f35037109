// Delivery from the shared outbox in the store: takes due entries (as many as there are free
// attempt slots, so every entry held is being worked on and no lease runs out waiting), makes one
// attempt each, then decides with retry-policy, like DeliveryQueue does for the file outbox, and
// writes the decision back to the store. Entries are taken, not pushed: whichever instance has a
// free slot when an entry is due delivers it. An idle instance looks again when the earliest entry
// is due, when an instance publishes that it added some, and otherwise only now and then.
// With a receiver gate (pause and pace, shared in the store), each entry taken asks its receiver
// first; one the receiver lets through no attempt for now goes back untried, due when it may go.
import type { DeliveryResult } from "./deliver";
import type { Finish } from "./delivery-queue";
import { attemptEnd, decide } from "./retry-policy";
import type { Admission, AttemptEnd } from "./receiver-health";
import type { OutboxEntry } from "../outbox/types";
import type { StoreOutbox } from "../outbox/store-outbox";
import type { GaveUpRecord } from "../shared/views";
import { describeResult } from "./output-msg";
import { historyWith } from "./attempt-history";
import type { MessageText } from "./request-headers";

/** The gave-up record kept for the sidebar's resend (the same fields as the file side's), its cause in the gave-up msg's words. */
function gaveUpRecord(entry: OutboxEntry, attempts: number, result: DeliveryResult, at: number, t?: MessageText): GaveUpRecord {
  const { id, executionId, body, url, topic } = entry;
  const record: GaveUpRecord = {
    id,
    executionId,
    body,
    attempts,
    at,
    why: describeResult(result, t),
    history: historyWith(entry.history, result),
  };
  if (url !== undefined) record.url = url;
  if (topic !== undefined) record.topic = topic;
  if (result.statusCode !== undefined) record.statusCode = result.statusCode;
  return record;
}

/** Pause and pace per receiver, kept in the store for every instance (store-receiver-health.ts). */
export interface SharedReceiverGate {
  /** Up to `count` attempts asked for at once; the answers end at the first no. */
  admit(receiver: string, count: number, now: number): Promise<Admission[]>;
  settle(receiver: string, end: AttemptEnd, holdSeconds: number | undefined, test: boolean, now: number): Promise<void>;
}

export interface StoreQueueOptions {
  outbox: StoreOutbox;
  concurrency: number;
  /** Delays in seconds before attempts 2, 3, ... */
  schedule: readonly number[];
  retry4xx: boolean;
  /** One attempt; `attempt` counts from 1. A rejection counts as a network error (retried). */
  attempt(entry: Readonly<OutboxEntry>, attempt: number): Promise<DeliveryResult>;
  /** Every attempt's end, `delivered` when the receiver took it (for the receiver's health). */
  onAttempted?(result: DeliveryResult, delivered: boolean): void;
  /** Delivered or given up (already removed from the store; a gave-up one kept among its gave-up records). */
  onFinish(entry: Readonly<OutboxEntry>, attempts: number, result: DeliveryResult, finish: Finish): void;
  /** An attempt failed and its callback waits for another (for the metrics). */
  onRetry?(): void;
  /** The store could not be reached or refused a write: delivery goes on when it answers again. */
  onStoreError(err: Error): void;
  /** Something changed for the node's status. */
  onChange?(): void;
  /** How often to look for due entries while idle and not told of adds (ms, default 250). */
  pollMs?: number;
  /** How often to look while told of adds by the store (ms, default 5,000): only for a message lost meanwhile. */
  idlePollMs?: number;
  random?: () => number;
  now?: () => number;
  /** The node's catalog, for a gave-up cause in the same words as the gave-up msg's. */
  t?: MessageText;
  /** The receiver (origin) an entry goes to, and the gate each receiver's attempts pass; `single`: all go to one (the node's URL). */
  receivers?: { of(entry: Readonly<OutboxEntry>): string; gate: SharedReceiverGate; single?: boolean } | undefined;
}

/** Entries taken at most in one look when callbacks go to several receivers (some may be held back). */
const LOOK_AHEAD = 64;

/** An entry taken that may be attempted now, and whether it is its paused receiver's test attempt. */
interface Admitted {
  entry: OutboxEntry;
  test: boolean;
}

export class StoreQueue {
  private readonly running = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private taking = false;
  private again = false;
  private stopped = false;
  private readonly settled = new Set<Promise<void>>();
  /** Stops listening for adds; set while the store tells this instance of them. */
  private unlisten: (() => Promise<void>) | undefined;
  private listening = false;

  constructor(private readonly options: StoreQueueOptions) {}

  get inFlight(): number {
    return this.running.size;
  }

  /** Starts looking for due entries. */
  start(): void {
    this.wake();
  }

  /** Listens for adds by any instance (once at a time; tried again at each look while it fails). */
  private listen(): void {
    if (this.unlisten || this.listening || this.stopped) return;
    this.listening = true;
    this.options.outbox
      .onAdded(() => this.wake())
      .then(
        (unlisten) => {
          if (this.stopped) void unlisten();
          else this.unlisten = unlisten;
        },
        () => (this.listening = false),
      );
  }

  /** Looks for due entries now (say, one was just added). */
  wake(): void {
    if (this.stopped) return;
    if (this.taking) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    void this.takeDue();
  }

  /** Stops taking entries; attempts in flight are left to end (their caller aborts them), then their entries go back. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.unlisten?.();
    await Promise.all([...this.settled]);
    await this.options.outbox.releaseAll();
  }

  private async takeDue(): Promise<void> {
    this.taking = true;
    this.listen();
    const { outbox, pollMs = 250, idlePollMs = 5000 } = this.options;
    let delay = this.unlisten ? idlePollMs : pollMs;
    try {
      const free = this.options.concurrency - this.running.size;
      const receivers = this.options.receivers;
      // Callbacks to several receivers: look further ahead, past those of a receiver that is held back.
      const batch = free > 0 && receivers && !receivers.single ? Math.max(free, LOOK_AHEAD) : free;
      const taken = await outbox.take(batch);
      const { admitted, heldUntil } = await this.admit(taken, free);
      for (const { entry, test } of admitted) this.track(this.run(entry, test));
      delay = this.nextLook(delay, free, batch, taken.length, admitted.length, heldUntil);
    } catch (err) {
      this.options.onStoreError(err instanceof Error ? err : new Error(String(err)));
      delay = Math.max(pollMs, 1000);
    } finally {
      this.taking = false;
    }
    if (this.stopped) return;
    if (this.again) {
      this.again = false;
      delay = 0;
    }
    if (delay >= 0) this.timer = setTimeout(() => this.wake(), delay);
    this.options.onChange?.();
  }

  /** Milliseconds until the next take (-1: when an attempt ends), after taking `taken` and starting `admitted` of them. */
  private nextLook(delay: number, free: number, batch: number, taken: number, admitted: number, heldUntil: number): number {
    // Every slot busy: more may be due; look again as soon as one frees up.
    if (taken > 0 && admitted === free) return -1;
    const now = (this.options.now ?? Date.now)();
    const untilHeld = Math.max(0, heldUntil - now);
    if (heldUntil !== Infinity) {
      // One receiver for all (the node's URL): what is due now waits with what was held back; else
      // other receivers' entries may be due behind those held back.
      if (this.options.receivers?.single) return Math.min(delay, untilHeld);
      if (taken === batch) return 0;
    }
    const next = this.options.outbox.nextDueAt;
    return Math.min(delay, untilHeld, next === undefined ? Infinity : Math.max(0, next - now));
  }

  /**
   * Asks each receiver, once per take, for as many attempts as it has entries taken (and slots are
   * free); gives back untried those it holds back (due when it lets them go) and those with no slot.
   */
  private async admit(taken: OutboxEntry[], free: number): Promise<{ admitted: Admitted[]; heldUntil: number }> {
    const receivers = this.options.receivers;
    if (!receivers) return { admitted: taken.map((entry) => ({ entry, test: false })), heldUntil: Infinity };
    const { outbox } = this.options;
    const byReceiver = new Map<string, OutboxEntry[]>();
    for (const entry of taken) {
      const receiver = receivers.of(entry);
      const list = byReceiver.get(receiver);
      if (list) list.push(entry);
      else byReceiver.set(receiver, [entry]);
    }
    const admitted: Admitted[] = [];
    const back: Array<{ id: string; dueAt: number }> = [];
    // No slot left: back as it was, unasked (asking would reserve its receiver's pace or test).
    const unasked = (entry: OutboxEntry): void => void back.push({ id: entry.id, dueAt: outbox.takenAt(entry.id) ?? entry.dueAt });
    let heldUntil = Infinity;
    try {
      for (const [receiver, entries] of byReceiver) {
        const count = Math.min(entries.length, free - admitted.length);
        const answers = count > 0 ? await receivers.gate.admit(receiver, count, (this.options.now ?? Date.now)()) : [];
        // The answers end at the first no: from there on, its entries wait until the receiver lets them go.
        const last = answers[answers.length - 1];
        const until = last && !last.go ? last.until : undefined;
        entries.forEach((entry, i) => {
          const answer = answers[i];
          if (answer?.go) admitted.push({ entry, test: answer.test });
          else if (until !== undefined) back.push({ id: entry.id, dueAt: until });
          else unasked(entry);
        });
        if (until !== undefined) heldUntil = Math.min(heldUntil, until);
      }
    } catch (err) {
      // The store stopped answering: what was not admitted goes back as it was, to be taken again.
      const handled = new Set([...admitted.map((a) => a.entry.id), ...back.map((b) => b.id)]);
      for (const entry of taken) if (!handled.has(entry.id)) unasked(entry);
      await outbox.giveBack(back).catch(() => undefined);
      for (const a of admitted) this.track(this.run(a.entry, a.test));
      throw err;
    }
    if (back.length > 0) await outbox.giveBack(back);
    return { admitted, heldUntil };
  }

  private track(run: Promise<void>): void {
    this.settled.add(run);
    void run.finally(() => this.settled.delete(run));
  }

  private async run(entry: OutboxEntry, test: boolean): Promise<void> {
    this.running.add(entry.id);
    const attempts = entry.attempts + 1;
    let result: DeliveryResult;
    try {
      result = await this.options.attempt(entry, attempts);
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      result = { outcome: { kind: "network", error }, error };
    }
    try {
      if (this.stopped) return;
      await this.settleReceiver(entry, result, test);
      await this.decide(entry, attempts, result, test);
    } catch (err) {
      // The decision could not be written: the entry stays with its lease and is tried again after it.
      this.options.onStoreError(err instanceof Error ? err : new Error(String(err)));
    } finally {
      this.running.delete(entry.id);
      if (!this.stopped) this.wake();
    }
  }

  /** Tells the receiver's gate how the attempt ended; a store that fails here does not stop the decision. */
  private async settleReceiver(entry: OutboxEntry, result: DeliveryResult, test: boolean): Promise<void> {
    const receivers = this.options.receivers;
    if (!receivers) return;
    const { end, holdSeconds } = attemptEnd(result, this.options.retry4xx);
    try {
      await receivers.gate.settle(receivers.of(entry), end, holdSeconds, test, (this.options.now ?? Date.now)());
    } catch (err) {
      this.options.onStoreError(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private async decide(entry: OutboxEntry, attempts: number, result: DeliveryResult, test: boolean): Promise<void> {
    const { outbox } = this.options;
    const manualFrom = outbox.manualFrom(entry.id);
    const decision = decide(result, attempts, this.options, manualFrom !== undefined, test);
    this.options.onAttempted?.(result, decision.kind === "delivered");
    if (decision.kind === "delivered") {
      await outbox.remove(entry.id);
      this.options.onFinish(entry, attempts, result, "delivered");
      return;
    }
    if (decision.kind === "back") {
      // A failed "retry now" or test attempt: back where it was, its schedule untouched.
      await outbox.reschedule(entry.id, {
        attempts: entry.attempts,
        dueAt: manualFrom ?? entry.dueAt,
        lastStatus: result.statusCode,
        lastError: result.error,
        history: historyWith(entry.history, result),
      });
      this.options.onRetry?.();
      return;
    }
    if (decision.kind === "give-up") {
      const at = (this.options.now ?? Date.now)();
      await outbox.giveUp(entry.id, gaveUpRecord(entry, attempts, result, at, this.options.t));
      this.options.onFinish(entry, attempts, result, "gave-up");
      return;
    }
    if (decision.kind === "retry") {
      const dueAt = (this.options.now ?? Date.now)() + decision.delayMs;
      await outbox.reschedule(entry.id, {
        attempts,
        dueAt,
        lastStatus: result.statusCode,
        lastError: result.error,
        history: historyWith(entry.history, result),
      });
      this.options.onRetry?.();
    }
  }
}
