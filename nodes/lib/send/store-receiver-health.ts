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

export class StoreReceiverHealth {
  constructor(
    private readonly records: SharedRecords<ReceiverState>,
    private readonly rule: ReceiverRule,
    /** Told when this instance's attempt paused or resumed a receiver (the others see it in the store). */
    private readonly onChange: (receiver: string, change: NonNullable<Change>) => void,
  ) {}

  /** Whether an attempt to `receiver` may start now; reserves the pace slot or the test in the store. */
  admit(receiver: string, now: number): Promise<Admission> {
    return this.records.update(receiver, (record) => {
      const state = record ?? freshState();
      const result = admit(state, this.rule, now);
      return { next: kept(state, now), result };
    });
  }

  /** Records how an attempt ended; said to `onChange` when it paused or resumed the receiver. */
  async settle(receiver: string, end: AttemptEnd, holdSeconds: number | undefined, test: boolean, now: number): Promise<void> {
    const change = await this.records.update(receiver, (record) => {
      const state = record ?? freshState();
      const result = settle(state, this.rule, end, holdSeconds, test, now);
      return { next: kept(state, now), result };
    });
    if (change) this.onChange(receiver, change);
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
}
