// Per receiver (one origin): pauses it after `pauseAfter` failed attempts in a row and then lets
// one test attempt through every `pauseFor`, paces attempts to `maxRate` a second, and holds its
// next attempts while a Retry-After it sent runs. Both delivery loops ask it before each attempt,
// so that a dead receiver gets one request now and then instead of every waiting callback's.

export interface ReceiverRule {
  /** Failed attempts in a row before the receiver pauses; 0: never. */
  pauseAfter: number;
  /** Milliseconds between test attempts while paused. */
  pauseForMs: number;
  /** Attempts a second at most; 0: no pace. */
  maxRate: number;
}

/** What is known of one receiver; plain data, so that a store can keep it for every instance. */
export interface ReceiverState {
  failures: number;
  /** Epoch ms it paused; undefined while it is not paused. */
  pausedSince?: number | undefined;
  /** While paused: when the next test attempt may start. */
  nextTestAt?: number | undefined;
  /** While paused: a test attempt is under way until this time (then another may start). */
  testingUntil?: number | undefined;
  /** The pace: the next attempt may not start before this. */
  nextSlotAt: number;
  /** A Retry-After the receiver sent holds its attempts until this. */
  holdUntil: number;
}

/** May an attempt start now: yes (a test attempt while paused), or not before `until`. */
export type Admission = { go: true; test: boolean } | { go: false; until: number };

/** How an attempt ended, for the receiver's health: a 410 or a 4xx not retried is `other`. */
export type AttemptEnd = "delivered" | "failed" | "other";

export function freshState(): ReceiverState {
  return { failures: 0, nextSlotAt: 0, holdUntil: 0 };
}

/** Whether an attempt may start now; changes `state` (reserves the pace slot or the test). */
export function admit(state: ReceiverState, rule: ReceiverRule, now: number): Admission {
  if (state.pausedSince !== undefined) {
    // A test that never reported back (its instance stopped) frees the way after one more pauseFor.
    if (state.testingUntil !== undefined && state.testingUntil > now) return { go: false, until: state.testingUntil };
    const nextTest = Math.max(state.nextTestAt ?? now, state.holdUntil);
    if (nextTest > now) return { go: false, until: nextTest };
    state.testingUntil = now + rule.pauseForMs;
    return { go: true, test: true };
  }
  const wait = Math.max(state.holdUntil, state.nextSlotAt);
  if (wait > now) return { go: false, until: wait };
  if (rule.maxRate > 0) state.nextSlotAt = now + 1000 / rule.maxRate;
  return { go: true, test: false };
}

/** What changed when an attempt ended: the receiver paused or resumed (for the log and the status). */
export type Change = { kind: "paused"; since: number; nextTest: number } | { kind: "resumed"; since: number } | undefined;

/** Records an attempt's end in `state`; a Retry-After (seconds) holds the receiver's next attempts. */
export function settle(
  state: ReceiverState,
  rule: ReceiverRule,
  end: AttemptEnd,
  retryAfterSeconds: number | undefined,
  test: boolean,
  now: number,
): Change {
  if (end === "failed" && retryAfterSeconds !== undefined) state.holdUntil = Math.max(state.holdUntil, now + retryAfterSeconds * 1000);
  if (test) state.testingUntil = undefined;
  if (end === "delivered") {
    state.failures = 0;
    const since = state.pausedSince;
    state.pausedSince = undefined;
    state.nextTestAt = undefined;
    return since === undefined ? undefined : { kind: "resumed", since };
  }
  if (end === "other") {
    // The receiver answered (say 410 for that callback): the next test need not wait.
    if (test) state.nextTestAt = now;
    return undefined;
  }
  state.failures += 1;
  if (state.pausedSince !== undefined) {
    if (test) state.nextTestAt = now + rule.pauseForMs;
    return undefined;
  }
  if (rule.pauseAfter <= 0 || state.failures < rule.pauseAfter) return undefined;
  state.pausedSince = now;
  state.nextTestAt = now + rule.pauseForMs;
  return { kind: "paused", since: now, nextTest: Math.max(state.nextTestAt, state.holdUntil) };
}

/** The pause as the status shows it. */
export interface PauseView {
  receiver: string;
  since: number;
  nextTest: number;
}

export function pauseView(receiver: string, state: ReceiverState): PauseView | undefined {
  if (state.pausedSince === undefined) return undefined;
  return { receiver, since: state.pausedSince, nextTest: Math.max(state.nextTestAt ?? state.pausedSince, state.holdUntil) };
}

/** The receivers of one instance (the file outbox): state kept in memory. */
export class ReceiverHealth {
  private readonly receivers = new Map<string, ReceiverState>();

  constructor(
    private readonly rule: ReceiverRule,
    private readonly onChange: (receiver: string, change: NonNullable<Change>) => void,
  ) {}

  admit(receiver: string, now: number): Admission {
    return admit(this.state(receiver), this.rule, now);
  }

  settle(receiver: string, end: AttemptEnd, retryAfterSeconds: number | undefined, test: boolean, now: number): void {
    const change = settle(this.state(receiver), this.rule, end, retryAfterSeconds, test, now);
    if (change) this.onChange(receiver, change);
  }

  /** The first paused receiver, for the status and the metrics. */
  paused(): PauseView | undefined {
    for (const [receiver, state] of this.receivers) {
      const view = pauseView(receiver, state);
      if (view) return view;
    }
    return undefined;
  }

  private state(receiver: string): ReceiverState {
    let state = this.receivers.get(receiver);
    if (!state) {
      state = freshState();
      this.receivers.set(receiver, state);
    }
    return state;
  }
}
