// The attempts a callback's record keeps for the deliveries sidebar (issue 22): when, how it
// ended, how long it took and the start of the reply. Bounded, so that a callback retried for days
// keeps a record of a few KB; never a request header (those carry our secret), only the
// receiver's reply.
import type { AttemptRecord } from "./views";

/** Attempts kept per callback: the latest ones. */
export const KEPT_ATTEMPTS = 10;
/** Characters of a reply kept per attempt. */
export const KEPT_REPLY_CHARS = 1024;

/** The reply as text (JSON text for a parsed JSON reply), cut to `max` characters. */
export function replyText(reply: unknown, max: number): string {
  if (reply === undefined) return "";
  let text: string;
  if (typeof reply === "string") text = reply;
  else {
    try {
      text = JSON.stringify(reply) ?? String(reply);
    } catch {
      text = String(reply);
    }
  }
  return text.length > max ? text.slice(0, max) : text;
}

/** What an attempt's result gives the record (the reply kept to its first KB). */
export function attemptRecord(
  at: number,
  ms: number,
  result: { statusCode?: number | undefined; error?: string | undefined; payload?: unknown },
): AttemptRecord {
  const record: AttemptRecord = { at, ms: Math.max(0, Math.round(ms)) };
  if (result.statusCode !== undefined) record.statusCode = result.statusCode;
  if (result.error !== undefined) record.error = result.error.slice(0, KEPT_REPLY_CHARS);
  const reply = replyText(result.payload, KEPT_REPLY_CHARS);
  if (reply !== "") record.reply = reply;
  return record;
}

/** `history` with `latest` added, the oldest dropped past KEPT_ATTEMPTS (a new array). */
export function withAttempt(history: readonly AttemptRecord[] | undefined, latest: AttemptRecord | undefined): AttemptRecord[] {
  const list = history ? [...history] : [];
  if (latest) list.push(latest);
  return list.length > KEPT_ATTEMPTS ? list.slice(list.length - KEPT_ATTEMPTS) : list;
}

/** The attempts a stored value holds (read back from a file or the store); anything else is skipped. */
export function readAttempts(value: unknown): AttemptRecord[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const list: AttemptRecord[] = [];
  for (const item of value as unknown[]) {
    if (!item || typeof item !== "object") continue;
    const v = item as Record<string, unknown>;
    if (typeof v.at !== "number" || typeof v.ms !== "number") continue;
    const record: AttemptRecord = { at: v.at, ms: v.ms };
    if (typeof v.statusCode === "number") record.statusCode = v.statusCode;
    if (typeof v.error === "string") record.error = v.error.slice(0, KEPT_REPLY_CHARS);
    if (typeof v.reply === "string") record.reply = v.reply.slice(0, KEPT_REPLY_CHARS);
    list.push(record);
  }
  return withAttempt(list, undefined);
}
