// The journal's record format: one JSON object per line, "add" (a whole entry with its body),
// "retry" (the next attempt's time) or "done" (delivered or given up). Pure: no file I/O here.
// An entry's stored fields are the same in the shared store's queue (store-outbox.ts), read and
// written by the helpers here.
import { readAttempts } from "../shared/attempts";
import type { AttemptRecord } from "../shared/views";

export interface OutboxEntry {
  /** Key of the entry in this journal (not the execution_id: a flow may resend one on purpose). */
  id: string;
  executionId: string;
  /** The exact JSON body: the same bytes on every attempt, before and after a restart. */
  body: string;
  /** Only when it came from msg.url: the node's own URL is read at each attempt so a fix applies. */
  url?: string;
  /** msg.topic of the input, given back on the output msg. */
  topic?: string;
  attempts: number;
  /** Epoch milliseconds of the next attempt. */
  dueAt: number;
  createdAt: number;
  lastStatus?: number;
  lastError?: string;
  /** The latest attempts, for the sidebar (bounded; never a request header). */
  history?: AttemptRecord[];
}

/** What the outbox keeps in memory for a pending callback: everything but the body. */
export type QueuedEntry = Omit<OutboxEntry, "body">;

export interface RetryUpdate {
  attempts: number;
  dueAt: number;
  lastStatus?: number | undefined;
  lastError?: string | undefined;
  history?: AttemptRecord[] | undefined;
}

export type JournalRecord = { op: "add"; entry: OutboxEntry } | ({ op: "retry"; id: string } & RetryUpdate) | { op: "done"; id: string };

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** The entry a parsed JSON value stands for, or undefined when it is not one. */
export function readEntry(value: unknown): OutboxEntry | undefined {
  if (!isObject(value)) return undefined;
  const { id, executionId, body, url, topic, attempts, dueAt, createdAt, lastStatus, lastError, history } = value;
  if (typeof id !== "string" || typeof executionId !== "string" || typeof body !== "string") return undefined;
  if (typeof attempts !== "number" || typeof dueAt !== "number" || typeof createdAt !== "number") return undefined;
  const entry: OutboxEntry = { id, executionId, body, attempts, dueAt, createdAt };
  if (typeof url === "string") entry.url = url;
  if (typeof topic === "string") entry.topic = topic;
  if (typeof lastStatus === "number") entry.lastStatus = lastStatus;
  if (typeof lastError === "string") entry.lastError = lastError;
  const kept = readAttempts(history);
  if (kept) entry.history = kept;
  return entry;
}

/** The record on a line; undefined when the line is not one (throws on text that is not JSON). */
export function readRecord(line: string): JournalRecord | undefined {
  const value: unknown = JSON.parse(line);
  if (!isObject(value)) return undefined;
  if (value.op === "add") {
    const entry = readEntry(value.entry);
    return entry ? { op: "add", entry } : undefined;
  }
  if (typeof value.id !== "string") return undefined;
  if (value.op === "done") return { op: "done", id: value.id };
  if (value.op === "retry" && typeof value.attempts === "number" && typeof value.dueAt === "number") {
    const history = readAttempts(value.history);
    return {
      op: "retry",
      id: value.id,
      attempts: value.attempts,
      dueAt: value.dueAt,
      lastStatus: typeof value.lastStatus === "number" ? value.lastStatus : undefined,
      lastError: typeof value.lastError === "string" ? value.lastError : undefined,
      ...(history ? { history } : {}),
    };
  }
  return undefined;
}

/** The record on a line, or undefined for any line that is not one (including text that is not JSON). */
export function tryReadRecord(line: string): JournalRecord | undefined {
  try {
    return readRecord(line);
  } catch {
    return undefined;
  }
}

/** An entry without its body and without any bookkeeping fields of the holder (a copy). */
export function queuedEntry(stored: QueuedEntry): QueuedEntry {
  const entry: QueuedEntry = {
    id: stored.id,
    executionId: stored.executionId,
    attempts: stored.attempts,
    dueAt: stored.dueAt,
    createdAt: stored.createdAt,
  };
  if (stored.url !== undefined) entry.url = stored.url;
  if (stored.topic !== undefined) entry.topic = stored.topic;
  if (stored.lastStatus !== undefined) entry.lastStatus = stored.lastStatus;
  if (stored.lastError !== undefined) entry.lastError = stored.lastError;
  if (stored.history !== undefined) entry.history = stored.history;
  return entry;
}

/**
 * queuedEntry's copy with `body` last. Set on the copy, not spread into a literal: on Node.js 20 a
 * literal with a spread and more properties after it takes about a microsecond per object.
 */
function withBody(entry: QueuedEntry, body: string): OutboxEntry {
  const copy = queuedEntry(entry) as OutboxEntry;
  copy.body = body;
  return copy;
}

export function addLine(entry: QueuedEntry, body: string): string {
  return JSON.stringify({ op: "add", entry: withBody(entry, body) });
}

/** An entry as one JSON object: the fields of an "add" line's entry, nothing else. */
export function entryJson(entry: OutboxEntry): string {
  return JSON.stringify(withBody(entry, entry.body));
}

/** The entry `entryJson` wrote; undefined for any text that is not one. */
export function readEntryJson(json: string): OutboxEntry | undefined {
  try {
    return readEntry(JSON.parse(json));
  } catch {
    return undefined;
  }
}

/** A copy of `entry` with a retry's state: what replaying the "retry" record gives. */
export function withRetry(entry: OutboxEntry, update: RetryUpdate): OutboxEntry {
  const next = withBody(entry, entry.body);
  next.attempts = update.attempts;
  next.dueAt = update.dueAt;
  delete next.lastStatus;
  delete next.lastError;
  if (update.lastStatus !== undefined) next.lastStatus = update.lastStatus;
  if (update.lastError !== undefined) next.lastError = update.lastError;
  if (update.history !== undefined) next.history = update.history;
  return next;
}

export function retryLine(id: string, update: RetryUpdate): string {
  return JSON.stringify({ op: "retry", id, ...update });
}

/** Written by hand: the most frequent record, and JSON.stringify of an object costs more. */
export function doneLine(id: string): string {
  return `{"op":"done","id":${JSON.stringify(id)}}`;
}

/** The body in an "add" line read back from the journal, checked to be the entry's own. */
export function bodyOf(line: string, id: string, offset: number): string {
  const record = tryReadRecord(line);
  if (!record || record.op !== "add" || record.entry.id !== id) {
    throw new Error(`the journal record at byte ${offset} is not callback ${id}'s`);
  }
  return record.entry.body;
}

/** A file name that any node id maps to safely (subflow instance ids may hold other characters). */
export function journalFileName(nodeId: string): string {
  return `${nodeId.replace(/[^A-Za-z0-9_-]/g, "_")}.jsonl`;
}
