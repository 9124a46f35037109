// The outbox over a journal file: the pending entries in memory, records written in groups (one
// write + fsync for everything that arrived while the previous group was on its way), replayed
// on open, compacted when the file holds mostly finished entries. Bodies beyond a small memory
// budget stay on disk only and are read back from their "add" line when an attempt needs them.
import { JournalFile, type Place } from "./journal-file";
import type { JournalFs } from "./journal-fs";
import { addLine, bodyOf, doneLine, queuedEntry, retryLine, tryReadRecord } from "./records";
import type { OutboxEntry, QueuedEntry, RetryUpdate } from "./records";
import { applyRetry, byPlace, storedEntry, type StoredEntry } from "./stored-entry";
import type { OpenedOutbox, OutboxStore, ReplayReport } from "./types";

export { journalFileName } from "./records";
export type { OutboxEntry, QueuedEntry, RetryUpdate } from "./records";
export type { ReplayReport } from "./types";

export interface OutboxOptions {
  /** Compact when the file holds more than this many lines and more than 4 per live entry. */
  compactAfterLines?: number;
  /** Bytes of bodies kept in memory at most (default 8 MiB); the others are read back from disk. */
  bodyMemoryBytes?: number;
  /** The file-system calls (tests stand in for a full disk or another platform). */
  files?: JournalFs;
  /** Epoch milliseconds now, for the back-off between failed compactions. */
  now?: () => number;
}

/** Waits between failed compactions: doubling from the first to the last. */
const COMPACT_BACKOFF_MS = { first: 1000, max: 5 * 60 * 1000 };

interface PendingWrite {
  /** The record, without its newline. */
  line: string;
  /** For an "add": the entry whose place in the file this write decides. */
  entry?: StoredEntry;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class Outbox implements OutboxStore {
  private readonly live = new Map<string, StoredEntry>();
  private pending: PendingWrite[] = [];
  private draining: Promise<void> | undefined;
  private bodyBytesHeld = 0;
  private closed = false;
  private writes = 0;
  private syncs = 0;
  private readonly compactAfterLines: number;
  private readonly bodyMemoryBytes: number;
  private readonly now: () => number;
  /** "retry" and "done" lines a failed group did not write, written first with the next group. */
  private unwritten: string[] = [];
  /** The journal needs a rewrite whatever its length (a compaction failed). */
  private compactDue = false;
  private compactFailures = 0;
  private compactNotBefore = 0;

  private constructor(
    private readonly journal: JournalFile,
    options: OutboxOptions,
  ) {
    this.compactAfterLines = options.compactAfterLines ?? 1000;
    this.bodyMemoryBytes = options.bodyMemoryBytes ?? 8 * 1024 * 1024;
    this.now = options.now ?? Date.now;
  }

  /**
   * Opens (creating the folder if needed, taking the lock) and replays the journal, then rewrites
   * it clean. A failed rewrite (a full disk) leaves the journal as it is, to be appended to.
   */
  static async open(file: string, options: OutboxOptions = {}): Promise<OpenedOutbox<Outbox>> {
    const journal = await JournalFile.open(file, options.files);
    const outbox = new Outbox(journal, options);
    try {
      const replay = await outbox.replay();
      await outbox.compactNow();
      return { outbox, replay };
    } catch (err) {
      await journal.close().catch(() => undefined);
      throw err;
    }
  }

  get file(): string {
    return this.journal.file;
  }

  get size(): number {
    return this.live.size;
  }

  /** How many write groups have been committed since open (shows the batching at work). */
  get commits(): number {
    return this.writes;
  }

  /** How many of those groups were fsynced (those holding an "add"). */
  get fsyncs(): number {
    return this.syncs;
  }

  /** Bytes of bodies held in memory now (the others are on disk only). */
  get bodyBytesInMemory(): number {
    return this.bodyBytesHeld;
  }

  entries(): QueuedEntry[] {
    return Array.from(this.live.values(), queuedEntry);
  }

  /** A pending entry without its body, as a copy. */
  get(id: string): QueuedEntry | undefined {
    const stored = this.live.get(id);
    return stored ? queuedEntry(stored) : undefined;
  }

  /** No copy, for the hot path of every delivery: read what you need at once. */
  peek(id: string): Readonly<QueuedEntry> | undefined {
    return this.live.get(id);
  }

  async body(id: string): Promise<string> {
    const stored = this.live.get(id);
    if (!stored) throw new Error(`callback ${id} is not in the outbox`);
    if (stored.body !== undefined) return stored.body;
    const { offset, length } = stored;
    if (offset < 0) throw new Error(`callback ${id} has no body in memory or on disk`);
    // Place and file are taken in this turn, so a compaction cannot mix two files.
    return bodyOf(await this.journal.readLine(offset, length), id, offset);
  }

  add(entry: OutboxEntry): Promise<void> {
    if (this.closed) return Promise.reject(new Error("the outbox is closed"));
    const previous = this.live.get(entry.id);
    if (previous) this.forgetBody(previous);
    const stored = storedEntry(entry, entry.body, -1, 0);
    this.live.set(entry.id, stored);
    this.bodyBytesHeld += entry.body.length;
    // Not durable, so not accepted (see refused): the caller reports the error on the msg.
    return this.writeLine(JSON.stringify({ op: "add", entry }), stored);
  }

  reschedule(id: string, update: RetryUpdate): Promise<void> {
    const entry = this.live.get(id);
    if (!entry || this.closed) return Promise.resolve();
    applyRetry(entry, update);
    return this.writeLine(retryLine(id, update));
  }

  remove(id: string): Promise<void> {
    const entry = this.live.get(id);
    if (!entry) return Promise.resolve();
    this.live.delete(id);
    this.forgetBody(entry);
    if (this.closed) return Promise.resolve();
    return this.writeLine(doneLine(id));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.draining) await this.draining;
    await this.journal.close();
  }

  private forgetBody(entry: StoredEntry): void {
    if (entry.body !== undefined) this.bodyBytesHeld -= entry.body.length;
    entry.body = undefined;
  }

  private writeLine(line: string, entry?: StoredEntry): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const item: PendingWrite = { line, resolve, reject };
      if (entry) item.entry = entry;
      this.pending.push(item);
      // Start on the next turn so records from msgs handled in the same turn share one fsync.
      if (!this.draining) this.draining = new Promise<void>((done) => setImmediate(() => void this.drain().then(done)));
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        await this.commit(this.pending.splice(0));
        const long = this.journal.lines > this.compactAfterLines && this.journal.lines > 4 * this.live.size;
        if ((long || this.compactDue) && this.now() >= this.compactNotBefore) await this.compactNow();
      }
    } finally {
      this.draining = undefined;
    }
  }

  /** Compacts; on failure the old journal is intact (no rename happened) and the next try waits longer. */
  private async compactNow(): Promise<void> {
    try {
      await this.compact();
      this.compactDue = false;
      this.compactFailures = 0;
      this.compactNotBefore = 0;
    } catch {
      this.compactDue = true;
      const wait = Math.min(COMPACT_BACKOFF_MS.first * 2 ** this.compactFailures, COMPACT_BACKOFF_MS.max);
      this.compactFailures += 1;
      this.compactNotBefore = this.now() + wait;
    }
  }

  private async commit(batch: PendingWrite[]): Promise<void> {
    // Only an "add" must be on disk before it is acknowledged: a lost "retry" or "done" means one
    // more attempt, which receivers dedupe, and the next "add" group's fsync covers them too.
    const sync = batch.some((item) => item.entry !== undefined);
    const carried = this.unwritten.splice(0);
    let places: Place[];
    try {
      places = (await this.journal.append([...carried, ...batch.map((item) => item.line)], sync)).slice(carried.length);
    } catch (err) {
      // Kept so that a delivered callback is not sent again after a restart; an "add" is refused instead.
      this.unwritten = [...carried, ...batch.filter((item) => item.entry === undefined).map((item) => item.line)];
      for (const { entry } of batch) if (entry) this.refused(entry);
      // A rewrite holds only what is pending, so it may fit where appends no longer do.
      this.compactDue = true;
      const error = err instanceof Error ? err : new Error(String(err));
      for (const item of batch) item.reject(error);
      return;
    }
    this.writes += 1;
    if (sync) this.syncs += 1;
    batch.forEach((item, i) => {
      const place = places[i];
      if (item.entry && place) this.placed(item.entry, place);
    });
    for (const item of batch) item.resolve();
  }

  /** An entry's "add" could not be written: it is not kept (now, before any rewrite could copy it). */
  private refused(entry: StoredEntry): void {
    if (this.live.get(entry.id) !== entry) return;
    this.live.delete(entry.id);
    this.forgetBody(entry);
  }

  /** An entry's "add" line is on disk: note where, and let go of the body if the budget is spent. */
  private placed(entry: StoredEntry, place: Place): void {
    if (this.live.get(entry.id) !== entry) return;
    entry.offset = place.offset;
    entry.length = place.length;
    if (this.bodyBytesHeld > this.bodyMemoryBytes) this.forgetBody(entry);
  }

  /** Reads the journal a chunk at a time; entries keep only where their body is. */
  private async replay(): Promise<ReplayReport> {
    const pass = await this.journal.replay((text, offset, length) => {
      const record = tryReadRecord(text);
      if (!record) return false;
      if (record.op === "add") this.live.set(record.entry.id, storedEntry(record.entry, undefined, offset, length));
      else if (record.op === "done") this.live.delete(record.id);
      else {
        const entry = this.live.get(record.id);
        if (entry) applyRetry(entry, record);
      }
      return true;
    });
    return { entries: this.live.size, ...pass };
  }

  /** Rewrites the journal as one "add" per live entry, copying bodies not in memory from the current file. */
  private async compact(): Promise<void> {
    // The entries as they are now: one added meanwhile has its own "add" queued, and one removed
    // meanwhile gets its "done" appended after the rename.
    const entries = [...this.live.values()].sort(byPlace);
    const carried = this.unwritten.length;
    await this.journal.rewrite(
      entries,
      async (entry, readOld) => addLine(entry, entry.body ?? bodyOf(await readOld(entry.offset, entry.length), entry.id, entry.offset)),
      (places) => {
        places.forEach((place, i) => {
          const entry = entries[i] as StoredEntry;
          entry.offset = place.offset;
          entry.length = place.length;
        });
        // The rewrite holds the state those lines were to record; any carried since are still to write.
        this.unwritten.splice(0, carried);
      },
    );
  }
}
