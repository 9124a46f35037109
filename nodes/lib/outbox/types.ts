// The outbox's public contract: what callback out needs from a durable store of pending
// callbacks, whatever keeps them (a journal file here, a shared store later).
import type { OutboxEntry, QueuedEntry, RetryUpdate } from "./records";

export type { OutboxEntry, QueuedEntry, RetryUpdate } from "./records";

export interface ReplayReport {
  /** Entries found pending when the store was opened. */
  entries: number;
  /** True when the last record was cut short by a crash (dropped). */
  tornTail: boolean;
  /** Complete records that could not be read (skipped; every other record kept). */
  unreadableLines: number;
}

export interface OutboxStore {
  /** Pending entries now. */
  readonly size: number;
  /** Counts at once; resolves only once the entry is durable, rejects when it is not (then it is not kept). */
  add(entry: OutboxEntry): Promise<void>;
  /** A read-only view of a pending entry without its body, valid until the entry changes. */
  peek(id: string): Readonly<QueuedEntry> | undefined;
  /** The entry's exact body, the same bytes as added. */
  body(id: string): Promise<string>;
  /** Records the attempt count and the next attempt's time. */
  reschedule(id: string, update: RetryUpdate): Promise<void>;
  /** Delivered or given up: the entry leaves the store. */
  remove(id: string): Promise<void>;
  /** Pending entries, oldest first, without their bodies. */
  entries(): QueuedEntry[];
  /** Waits for queued writes and lets go of the store; what is pending stays stored. */
  close(): Promise<void>;
}

export interface OpenedOutbox<T extends OutboxStore = OutboxStore> {
  outbox: T;
  replay: ReplayReport;
}

/** Opens a store and replays what it holds; `where` names it (a file path for the journal). */
export type OpenOutbox<Options = unknown, T extends OutboxStore = OutboxStore> = (
  where: string,
  options?: Options,
) => Promise<OpenedOutbox<T>>;
