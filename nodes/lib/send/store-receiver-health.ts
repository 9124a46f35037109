// Pause and pace per receiver when callbacks wait in a callback store: the same rules as the file
// outbox's (receiver-health.ts), applied to one record per receiver kept in the store, so that every
// instance running the flow pauses, tests and paces a receiver together. A record that says nothing
// (no failures, no pause, no pace or hold still running) is removed, so the hash stays small.
import type { SharedRecords } from "../store/shared-records";
import {
  admit,
  freshState,
  pauseView,
  settle,
  type Admission,
  type AttemptEnd,
  type Change,
  type PauseView,
  type ReceiverRule,
  type ReceiverState,
} from "./receiver-health";

/** A receiver's record from the store; undefined for anything that is not one. */
export function readReceiverState(json: string): ReceiverState | undefined {
  const value: unknown = JSON.parse(json);
  if (!value || typeof value !== "object") return undefined;
  const record = value as Record<string, unknown>;
  const number = (key: string): number | undefined =>
    typeof record[key] === "number" && Number.isFinite(record[key]) ? record[key] : undefined;
  const state = freshState();
  state.failures = number("failures") ?? 0;
  state.nextSlotAt = number("nextSlotAt") ?? 0;
  state.holdUntil = number("holdUntil") ?? 0;
  state.pausedSince = number("pausedSince");
  state.nextTestAt = number("nextTestAt");
  state.testingUntil = number("testingUntil");
  return state;
}

/** Nothing to remember: no failure in a row, no pause, and no pace slot or hold in the future. */
function idle(state: ReceiverState, now: number): boolean {
  return state.failures === 0 && state.pausedSince === undefined && state.nextSlotAt <= now && state.holdUntil <= now;
}

function kept(state: ReceiverState, now: number): ReceiverState | undefined {
  return idle(state, now) ? undefined : state;
}

/** A settle waiting to be written with the others that came meanwhile. */
interface PendingSettle {
  end: AttemptEnd;
  holdSeconds: number | undefined;
  test: boolean;
  now: number;
  done: { resolve(): void; reject(err: unknown): void };
}

export class StoreReceiverHealth {
  /** Attempt ends per receiver not yet written; written together, in order, one store round trip for all. */
  private readonly settling = new Map<string, PendingSettle[]>();

  constructor(
    private readonly records: SharedRecords<ReceiverState>,
    private readonly rule: ReceiverRule,
    /** Told when this instance's attempt paused or resumed a receiver (the others see it in the store). */
    private readonly onChange: (receiver: string, change: NonNullable<Change>) => void,
  ) {}

  /**
   * Up to `count` attempts to `receiver` asked for at once (one store round trip), as many single
   * admits in a row would be: the answers end at the first no. Each yes reserves its pace slot or test.
   */
  admit(receiver: string, count: number, now: number): Promise<Admission[]> {
    return this.records.update(receiver, (record) => {
      const state = record ?? freshState();
      const result: Admission[] = [];
      while (result.length < count) {
        const admission = admit(state, this.rule, now);
        result.push(admission);
        if (!admission.go) break;
      }
      return { next: kept(state, now), result };
    });
  }

  /** Records how an attempt ended; said to `onChange` when it paused or resumed the receiver. */
  settle(receiver: string, end: AttemptEnd, holdSeconds: number | undefined, test: boolean, now: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const pending = this.settling.get(receiver);
      const settle = { end, holdSeconds, test, now, done: { resolve, reject } };
      if (pending) pending.push(settle);
      else {
        this.settling.set(receiver, [settle]);
        void this.writeSettles(receiver);
      }
    });
  }

  /** A paused receiver as this instance last saw the store (refresh() reads it again). */
  paused(): PauseView | undefined {
    for (const [receiver, state] of this.records.known()) {
      const view = pauseView(receiver, state);
      if (view) return view;
    }
    return undefined;
  }

  /** Reads every receiver's record again: a pause another instance began or ended shows here too. */
  refresh(): Promise<void> {
    return this.records.refresh();
  }

  /** Writes the receiver's waiting settles in one update; those that come meanwhile go in the next. */
  private async writeSettles(receiver: string): Promise<void> {
    for (let batch = this.settling.get(receiver); batch && batch.length > 0; batch = this.settling.get(receiver)) {
      const settles = batch.splice(0);
      try {
        const changes = await this.records.update(receiver, (record) => {
          const state = record ?? freshState();
          const result = settles.map((p) => settle(state, this.rule, p.end, p.holdSeconds, p.test, p.now));
          return { next: kept(state, Math.max(...settles.map((p) => p.now))), result };
        });
        for (const change of changes) if (change) this.onChange(receiver, change);
        for (const p of settles) p.done.resolve();
      } catch (err) {
        for (const p of settles) p.done.reject(err);
      }
    }
    this.settling.delete(receiver);
  }
}
