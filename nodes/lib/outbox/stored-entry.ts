// A pending entry as the outbox holds it in memory: the entry without its body unless the body
// fits the memory budget, and where its "add" line sits in the journal.
import type { OutboxEntry, QueuedEntry, RetryUpdate } from "./records";

/** A pending entry as held in memory. */
export interface StoredEntry extends QueuedEntry {
  /** Held until the "add" is on disk, then only while within the memory budget. */
  body: string | undefined;
  /** Where the entry's "add" line sits in the journal (newline excluded); -1 before it is written. */
  offset: number;
  length: number;
}

export function storedEntry(entry: OutboxEntry, body: string | undefined, offset: number, length: number): StoredEntry {
  // Every field present, so all entries share one object shape (less memory per entry).
  return {
    id: entry.id,
    executionId: entry.executionId,
    url: entry.url,
    topic: entry.topic,
    attempts: entry.attempts,
    dueAt: entry.dueAt,
    createdAt: entry.createdAt,
    lastStatus: entry.lastStatus,
    lastError: entry.lastError,
    history: entry.history,
    body,
    offset,
    length,
  };
}

/** A retry's state on an entry: the same whether it happens now (reschedule) or is replayed. */
export function applyRetry(entry: StoredEntry, update: RetryUpdate): void {
  entry.attempts = update.attempts;
  entry.dueAt = update.dueAt;
  entry.lastStatus = update.lastStatus;
  entry.lastError = update.lastError;
  if (update.history !== undefined) entry.history = update.history;
}

/** Entries in file order; those not yet placed (their "add" is queued) go last. */
export function byPlace(a: StoredEntry, b: StoredEntry): number {
  return (a.offset < 0 ? Infinity : a.offset) - (b.offset < 0 ? Infinity : b.offset);
}
