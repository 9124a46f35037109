// The node status of callback out: what is happening now, built from the sender's state when
// the status is shown (not on every delivery).
import type { NodeStatus } from "../shared/node-red-types";
import type { Translate } from "../shared/messages";
import type { Finish } from "./delivery-queue";
import type { NumberProblem } from "./settings";
import type { PauseView } from "./receiver-health";

export interface SenderState {
  /** Callbacks in the outbox. */
  pending: number;
  inFlight: number;
  /** The next callback due, when known. */
  next: { attempts: number; dueAt: number } | undefined;
  /** Attempts after the first in the retry schedule. */
  retries: number;
  /** The last delivery's outcome, with the reply's status code or "no reply". */
  lastFinish: { finish: Finish; code: string; cancelled?: boolean } | undefined;
  /** Why msgs are refused now (the outbox cannot write), until a write succeeds again. */
  refusing: string | undefined;
  /** The msg property of the last msg refused for its content (e.g. payload.status), until a msg is taken again. */
  refusedField?: string | undefined;
  /** A setting replaced by its default, shown while nothing else is to be said. */
  problem: NumberProblem | undefined;
  /** A receiver paused after failing attempts: since when, and when it is tested next. */
  paused?: PauseView | undefined;
}

/** `date` formatted for `locale`, or for the process's default where Intl does not know the locale. */
function localized(date: Date, locale: string | undefined, options: Intl.DateTimeFormatOptions): string {
  try {
    return new Intl.DateTimeFormat(locale, options).format(date);
  } catch {
    return new Intl.DateTimeFormat(undefined, options).format(date);
  }
}

/** The time of day, with the date when it is not today, in `locale` (Node-RED's language: month names). */
export function clockTime(at: number, locale?: string): string {
  const date = new Date(at);
  const time = localized(date, locale, { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
  if (date.toDateString() === new Date().toDateString()) return time;
  return `${localized(date, locale, { month: "short", day: "2-digit" })} ${time}`;
}

function idleStatus(state: SenderState, t: Translate): NodeStatus {
  if (state.refusedField !== undefined) return { fill: "red", shape: "ring", text: t("status.refused", { field: state.refusedField }) };
  if (state.lastFinish) {
    const { finish, code, cancelled } = state.lastFinish;
    if (finish === "delivered") return { fill: "green", shape: "dot", text: t("status.delivered", { code }) };
    // Cancelled in the sidebar: the user's choice, not the receiver's failure.
    if (cancelled === true) return { fill: "grey", shape: "dot", text: t("status.cancelled") };
    return { fill: "red", shape: "dot", text: t("status.gave-up", { code }) };
  }
  if (state.problem) return { fill: "yellow", shape: "ring", text: t("status.bad-number", { ...state.problem }) };
  return {};
}

export function senderStatus(state: SenderState, t: Translate): NodeStatus {
  if (state.refusing !== undefined) return { fill: "red", shape: "ring", text: state.refusing };
  const { pending, inFlight, next, paused } = state;
  // Before "sending": a test attempt in flight is no sign the receiver is back.
  if (paused && pending > 0) {
    return { fill: "red", shape: "ring", text: t("status.paused", { since: clockTime(paused.since), next: clockTime(paused.nextTest) }) };
  }
  if (pending === 0) return idleStatus(state, t);
  const waiting = pending - inFlight;
  if (inFlight > 0) {
    return { fill: "blue", shape: "dot", text: waiting > 0 ? t("status.sending-queued", { count: waiting }) : t("status.sending") };
  }
  if (next && next.attempts > 0) {
    const retry = t("status.retry", { k: next.attempts, n: state.retries, time: clockTime(next.dueAt, t("status.time-locale")) });
    return { fill: "yellow", shape: "ring", text: pending > 1 ? `${retry}, ${t("status.queued", { count: pending })}` : retry };
  }
  return { fill: "yellow", shape: "dot", text: t("status.queued", { count: pending }) };
}
