// The msgs callback out gives back on its outputs: the input msg (as it was, without payload
// and error) with the receiver's reply and the callback as sent.
import type { Translate } from "../shared/messages";
import type { NodeMessage } from "../shared/node-red-types";
import type { QueuedEntry } from "../outbox/types";
import type { DeliveryResult } from "./deliver";
import { replyAdvice } from "./failure-words";
import type { MessageText } from "./request-headers";

/**
 * A shallow copy of `msg` without `payload` and `error`, copied key by key: `delete` would turn
 * the object into a much larger hash table, and many of these wait in memory during an outage.
 */
export function withoutPayload(msg: NodeMessage): NodeMessage {
  const kept: NodeMessage = {};
  for (const key of Object.keys(msg)) {
    if (key !== "payload" && key !== "error") kept[key] = msg[key];
  }
  return kept;
}

/** How an attempt ended, for a gave-up error: a refusing reply in words (its HTTP code in them), else the attempt's error. */
export function describeResult(result: DeliveryResult, t?: MessageText): string {
  if (result.statusCode === undefined) return result.error ?? "no reply";
  return (t && replyAdvice(result.statusCode, t)) ?? `HTTP ${result.statusCode}`;
}

/** The output msg: the kept input msg (or a fresh one after a restart) with the reply and the callback sent. */
export function outputMsg(
  input: NodeMessage | undefined,
  entry: Pick<QueuedEntry, "topic">,
  body: string | undefined,
  result: DeliveryResult,
  attempts: number,
): NodeMessage {
  const msg: NodeMessage = input ?? (entry.topic !== undefined ? { topic: entry.topic } : {});
  msg.payload = result.payload;
  msg.statusCode = result.statusCode;
  msg.headers = result.headers ?? {};
  // No body only when it could not be read back from the journal (then the attempt's error says why).
  msg.callback = body !== undefined ? (JSON.parse(body) as unknown) : undefined;
  msg.attempts = attempts;
  return msg;
}

/**
 * Marks a gave-up output msg: `msg.error` says why (the last attempt's `result`, or, without one,
 * that it was cancelled in the sidebar) and `msg.cancelled` whether it was.
 */
export function markGaveUp(
  msg: NodeMessage,
  executionId: string,
  attempts: number,
  result: DeliveryResult | undefined,
  t: Translate,
): void {
  msg.error = result
    ? t("errors.gave-up", { id: executionId, attempts, cause: describeResult(result, t) })
    : t("errors.cancelled", { id: executionId, attempts });
  // Set either way: the input msg may carry a `cancelled` of its own.
  msg.cancelled = result === undefined;
}
