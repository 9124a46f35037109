// The durable journal of pending callbacks: one JSON record per line, appended and fsynced in
// groups (one write + fsync for every record that arrived while the previous one was on its way),
// replayed on start, compacted when it holds mostly finished entries.
//
// A crash can tear only the last line (appends are sequential), so replay drops a torn tail and
// keeps every record before it. Compaction writes a new file and renames it over the old one, so
// at every instant one complete journal exists on disk.
//
// Memory: a queued callback's body is the bulk of it (about 1 KB and up), and an outage can queue
// 100,000 of them. So once its "add" record is on disk, a body is kept in memory only while the
// bodies held stay under a small budget; beyond it the entry remembers where its line sits in the
// journal and the body is read back from there when an attempt needs it.
import { promises as fs } from "node:fs";
import path from "node:path";

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
}

/** What the outbox keeps in memory for a pending callback: everything but the body. */
export type QueuedEntry = Omit<OutboxEntry, "body">;

export interface RetryUpdate {
  attempts: number;
  dueAt: number;
  lastStatus?: number | undefined;
  lastError?: string | undefined;
}

type JournalRecord = { op: "add"; entry: OutboxEntry } | ({ op: "retry"; id: string } & RetryUpdate) | { op: "done"; id: string };

export interface ReplayReport {
  /** Entries found pending in the journal. */
  entries: number;
  /** True when the last line was cut short by a crash (dropped). */
  tornTail: boolean;
  /** Complete lines that could not be read (skipped; every other record kept). */
  unreadableLines: number;
}

export interface OutboxOptions {
  /** Compact when the file holds more than this many lines and more than 4 per live entry. */
  compactAfterLines?: number;
  /** Bytes of bodies kept in memory at most (default 8 MiB); the others are read back from disk. */
  bodyMemoryBytes?: number;
}

/** A pending entry as held in memory. */
interface StoredEntry extends QueuedEntry {
  /** Held until the "add" is on disk, then only while within the memory budget. */
  body: string | undefined;
  /** Where the entry's "add" line sits in the journal (bytes, newline excluded); -1 before it is written. */
  offset: number;
  length: number;
}

interface PendingWrite {
  /** The record, without its newline. */
  line: string;
  /** For an "add": the entry whose place in the file this write decides. */
  entry?: StoredEntry;
  resolve: () => void;
  reject: (err: Error) => void;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function readEntry(value: unknown): OutboxEntry | undefined {
  if (!isRecord(value)) return undefined;
  const { id, executionId, body, url, topic, attempts, dueAt, createdAt, lastStatus, lastError } = value;
  if (typeof id !== "string" || typeof executionId !== "string" || typeof body !== "string") return undefined;
  if (typeof attempts !== "number" || typeof dueAt !== "number" || typeof createdAt !== "number") return undefined;
  const entry: OutboxEntry = { id, executionId, body, attempts, dueAt, createdAt };
  if (typeof url === "string") entry.url = url;
  if (typeof topic === "string") entry.topic = topic;
  if (typeof lastStatus === "number") entry.lastStatus = lastStatus;
  if (typeof lastError === "string") entry.lastError = lastError;
  return entry;
}

function readRecord(line: string): JournalRecord | undefined {
  const value: unknown = JSON.parse(line);
  if (!isRecord(value)) return undefined;
  if (value.op === "add") {
    const entry = readEntry(value.entry);
    return entry ? { op: "add", entry } : undefined;
  }
  if (typeof value.id !== "string") return undefined;
  if (value.op === "done") return { op: "done", id: value.id };
  if (value.op === "retry" && typeof value.attempts === "number" && typeof value.dueAt === "number") {
    return {
      op: "retry",
      id: value.id,
      attempts: value.attempts,
      dueAt: value.dueAt,
      lastStatus: typeof value.lastStatus === "number" ? value.lastStatus : undefined,
      lastError: typeof value.lastError === "string" ? value.lastError : undefined,
    };
  }
  return undefined;
}

/** The entry without its body and without the outbox's bookkeeping (a copy: callers cannot change ours). */
function queuedEntry(stored: StoredEntry): QueuedEntry {
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
  return entry;
}

function storedEntry(entry: OutboxEntry, body: string | undefined, offset: number, length: number): StoredEntry {
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
    body,
    offset,
    length,
  };
}

/** A retry's state on an entry: the same whether it happens now (reschedule) or is replayed. */
function applyRetry(entry: StoredEntry, update: RetryUpdate): void {
  entry.attempts = update.attempts;
  entry.dueAt = update.dueAt;
  entry.lastStatus = update.lastStatus;
  entry.lastError = update.lastError;
}

function addLine(entry: StoredEntry, body: string): string {
  return JSON.stringify({ op: "add", entry: { ...queuedEntry(entry), body } });
}

const CHUNK_BYTES = 1 << 20;
const READ_AHEAD_BYTES = 64 * 1024;
const NEWLINE = 0x0a;

/** A file name that any node id maps to safely (subflow instance ids may hold other characters). */
export function journalFileName(nodeId: string): string {
  return `${nodeId.replace(/[^A-Za-z0-9_-]/g, "_")}.jsonl`;
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Calls `onLine(bytes, offset)` for each line of the file, reading about 1 MiB at a time; returns the unterminated tail. */
async function forEachLine(
  handle: fs.FileHandle,
  onLine: (line: Buffer, offset: number) => void,
): Promise<{ tail: Buffer; offset: number }> {
  let carry = Buffer.alloc(0);
  let carryOffset = 0;
  let position = 0;
  for (;;) {
    const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    const { bytesRead } = await handle.read(chunk, 0, CHUNK_BYTES, position);
    if (bytesRead === 0) break;
    position += bytesRead;
    const data = carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, bytesRead)]) : chunk.subarray(0, bytesRead);
    let start = 0;
    for (let nl = data.indexOf(NEWLINE, start); nl >= 0; nl = data.indexOf(NEWLINE, start)) {
      onLine(data.subarray(start, nl), carryOffset + start);
      start = nl + 1;
    }
    // Copied, so the 1 MiB chunk is not kept alive by a short tail.
    carry = Buffer.from(data.subarray(start));
    carryOffset += start;
  }
  return { tail: carry, offset: carryOffset };
}

/**
 * Writes lines to a file in pieces of about 1 MiB (never one string of a whole group or journal:
 * 100,000 queued callbacks make 116 MiB, and a burst of large ones could pass V8's longest
 * string), and says where each line lands.
 */
class LineWriter {
  private piece = "";
  constructor(
    private readonly handle: fs.FileHandle,
    /** Bytes in the file before the next line: where it lands. */
    public bytes: number,
  ) {}

  /** Buffers `line` (without its newline); returns its place in the file (newline excluded). */
  push(line: string): { offset: number; length: number } {
    const length = Buffer.byteLength(line);
    const place = { offset: this.bytes, length };
    this.piece += `${line}\n`;
    this.bytes += length + 1;
    return place;
  }

  /** True once the buffered piece should be written out. */
  get full(): boolean {
    return this.piece.length >= CHUNK_BYTES;
  }

  async flush(): Promise<void> {
    if (this.piece.length === 0) return;
    const piece = this.piece;
    this.piece = "";
    await this.handle.write(piece);
  }
}

/** Reads lines at known places of one file, a window of about 1 MiB at a time (for a pass in file order). */
class WindowReader {
  private window = Buffer.alloc(0);
  private start = 0;
  constructor(
    readonly handle: fs.FileHandle,
    private readonly windowBytes: number,
  ) {}

  async line(offset: number, length: number): Promise<string> {
    if (offset < this.start || offset + length > this.start + this.window.length) {
      const size = Math.max(this.windowBytes, length);
      const buffer = Buffer.allocUnsafe(size);
      const { bytesRead } = await this.handle.read(buffer, 0, size, offset);
      this.window = buffer.subarray(0, bytesRead);
      this.start = offset;
      if (bytesRead < length) throw new Error(`the journal ends before the record at byte ${offset}`);
    }
    return this.window.toString("utf8", offset - this.start, offset - this.start + length);
  }
}

/** The body in an "add" line read back from the journal, checked to be the entry's own. */
function bodyOf(line: string, id: string, offset: number): string {
  const record = readRecord(line);
  if (!record || record.op !== "add" || record.entry.id !== id) {
    throw new Error(`the journal record at byte ${offset} is not callback ${id}'s`);
  }
  return record.entry.body;
}

export class Outbox {
  private readonly live = new Map<string, StoredEntry>();
  private handle: fs.FileHandle | undefined;
  /** Reads bodies back; replaced after a compaction (FileHandle.close waits for reads in flight). */
  private reader: fs.FileHandle | undefined;
  /**
   * Bodies are mostly read in file order (callbacks are due in the order they came), so one read
   * of 64 KiB serves the next few dozen. Bytes already in the file never change (appends only;
   * compaction makes a new file and a new reader), so the window stays valid for its reader.
   */
  private bodyWindow: WindowReader | undefined;
  private pending: PendingWrite[] = [];
  private draining: Promise<void> | undefined;
  private linesInFile = 0;
  /** Bytes in the journal file: where the next append lands. */
  private fileBytes = 0;
  private bodyBytesHeld = 0;
  private closed = false;
  private writes = 0;
  private syncs = 0;
  private readonly compactAfterLines: number;
  private readonly bodyMemoryBytes: number;

  private constructor(
    readonly file: string,
    options: OutboxOptions,
  ) {
    this.compactAfterLines = options.compactAfterLines ?? 1000;
    this.bodyMemoryBytes = options.bodyMemoryBytes ?? 8 * 1024 * 1024;
  }

  /** Opens (creating the folder if needed) and replays the journal, then rewrites it clean. */
  static async open(file: string, options: OutboxOptions = {}): Promise<{ outbox: Outbox; replay: ReplayReport }> {
    const outbox = new Outbox(file, options);
    await fs.mkdir(path.dirname(file), { recursive: true });
    const replay = await outbox.replay();
    // A clean rewrite drops finished entries and any torn tail, so the next append starts on a fresh line.
    await outbox.compact();
    return { outbox, replay };
  }

  get size(): number {
    return this.live.size;
  }

  /** How many write+fsync groups have been committed since open (shows the batching at work). */
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

  /** Pending entries, oldest first, without their bodies. */
  entries(): QueuedEntry[] {
    return Array.from(this.live.values(), queuedEntry);
  }

  /** A pending entry without its body (see `body`). */
  get(id: string): QueuedEntry | undefined {
    const stored = this.live.get(id);
    return stored ? queuedEntry(stored) : undefined;
  }

  /**
   * The same without a copy, for the hot path of every delivery: a read-only view of the outbox's
   * own entry, valid until the entry changes (read what you need at once).
   */
  peek(id: string): Readonly<QueuedEntry> | undefined {
    return this.live.get(id);
  }

  /** The entry's exact body: from memory, or read back from its "add" line in the journal. */
  async body(id: string): Promise<string> {
    const stored = this.live.get(id);
    if (!stored) throw new Error(`callback ${id} is not in the outbox`);
    if (stored.body !== undefined) return stored.body;
    // Offset, length and handle are taken in one turn with the read started, so a compaction
    // cannot mix two files (the old handle is closed only once this read is done).
    const reader = this.reader;
    const { offset, length } = stored;
    if (!reader || offset < 0) throw new Error(`callback ${id} has no body in memory or on disk`);
    if (this.bodyWindow?.handle !== reader) this.bodyWindow = new WindowReader(reader, READ_AHEAD_BYTES);
    return bodyOf(await this.bodyWindow.line(offset, length), id, offset);
  }

  /** Counts at once; resolves when the entry is on disk (fsynced). */
  add(entry: OutboxEntry): Promise<void> {
    if (this.closed) return Promise.reject(new Error("the outbox is closed"));
    const previous = this.live.get(entry.id);
    if (previous) this.forgetBody(previous);
    const stored = storedEntry(entry, entry.body, -1, 0);
    this.live.set(entry.id, stored);
    this.bodyBytesHeld += entry.body.length;
    return this.write({ op: "add", entry }, stored).catch((err: unknown) => {
      // Not durable, so not accepted: the caller reports the error on the msg.
      if (this.live.get(entry.id) === stored) {
        this.live.delete(entry.id);
        this.forgetBody(stored);
      }
      throw err;
    });
  }

  /** Records the attempt count and the next attempt's time. */
  reschedule(id: string, update: RetryUpdate): Promise<void> {
    const entry = this.live.get(id);
    if (!entry || this.closed) return Promise.resolve();
    applyRetry(entry, update);
    return this.write({ op: "retry", id, ...update });
  }

  /** Delivered or given up: the entry leaves the journal. */
  remove(id: string): Promise<void> {
    const entry = this.live.get(id);
    if (!entry) return Promise.resolve();
    this.live.delete(id);
    this.forgetBody(entry);
    if (this.closed) return Promise.resolve();
    // Written by hand: the most frequent record, and JSON.stringify of an object costs more.
    return this.writeLine(`{"op":"done","id":${JSON.stringify(id)}}`);
  }

  /** Waits for every queued write, then closes the file. The journal stays on disk. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.draining) await this.draining;
    await this.handle?.close();
    this.handle = undefined;
    await this.reader?.close();
    this.reader = undefined;
    this.bodyWindow = undefined;
  }

  private forgetBody(entry: StoredEntry): void {
    if (entry.body !== undefined) this.bodyBytesHeld -= entry.body.length;
    entry.body = undefined;
  }

  private write(record: JournalRecord, entry?: StoredEntry): Promise<void> {
    return this.writeLine(JSON.stringify(record), entry);
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
        const batch = this.pending.splice(0);
        try {
          const handle = await this.fileHandle();
          const writer = new LineWriter(handle, this.fileBytes);
          const places: Array<{ offset: number; length: number }> = [];
          for (const item of batch) {
            places.push(writer.push(item.line));
            if (writer.full) await writer.flush();
          }
          await writer.flush();
          // Only an "add" must be on disk before it is acknowledged. A lost "retry" or "done"
          // (power cut before the OS wrote it) means one more attempt, which receivers dedupe, so
          // batches of those skip the fsync; the next "add" batch's fsync covers them too.
          if (batch.some((item) => item.entry !== undefined)) {
            await handle.sync();
            this.syncs += 1;
          }
          this.writes += 1;
          this.linesInFile += batch.length;
          batch.forEach((item, i) => {
            const place = places[i];
            if (item.entry && place) this.placed(item.entry, place.offset, place.length);
          });
          this.fileBytes = writer.bytes;
          for (const item of batch) item.resolve();
        } catch (err) {
          // Part of the batch may have reached the file: find where the next append lands.
          this.fileBytes = await fs.stat(this.file).then(
            (s) => s.size,
            () => this.fileBytes,
          );
          const error = err instanceof Error ? err : new Error(String(err));
          for (const item of batch) item.reject(error);
        }
        if (this.linesInFile > this.compactAfterLines && this.linesInFile > 4 * this.live.size) {
          try {
            await this.compact();
          } catch {
            // The old journal is intact (rename never happened); compaction is retried after the next write.
          }
        }
      }
    } finally {
      this.draining = undefined;
    }
  }

  /** An entry's "add" line is on disk: note where, and let go of the body if the budget is spent. */
  private placed(entry: StoredEntry, offset: number, length: number): void {
    if (this.live.get(entry.id) !== entry) return;
    entry.offset = offset;
    entry.length = length;
    if (this.bodyBytesHeld > this.bodyMemoryBytes) this.forgetBody(entry);
  }

  private async fileHandle(): Promise<fs.FileHandle> {
    if (!this.handle) this.handle = await fs.open(this.file, "a");
    return this.handle;
  }

  /** Reads the journal a chunk at a time; entries keep only where their body is. */
  private async replay(): Promise<ReplayReport> {
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(this.file, "r");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return { entries: 0, tornTail: false, unreadableLines: 0 };
      throw err;
    }
    this.reader = handle;
    let unreadableLines = 0;
    const apply = (text: string, offset: number, length: number): boolean => {
      let record: JournalRecord | undefined;
      try {
        record = readRecord(text);
      } catch {
        record = undefined;
      }
      if (!record) return false;
      if (record.op === "add") this.live.set(record.entry.id, storedEntry(record.entry, undefined, offset, length));
      else if (record.op === "done") this.live.delete(record.id);
      else {
        const entry = this.live.get(record.id);
        if (entry) applyRetry(entry, record);
      }
      return true;
    };
    const { tail, offset } = await forEachLine(handle, (line, at) => {
      const text = line.toString("utf8");
      if (text.trim() !== "" && !apply(text, at, line.length)) unreadableLines += 1;
    });
    // The bytes after the last newline are either nothing or a line the crash cut short.
    const tailText = tail.toString("utf8");
    const tornTail = tailText.trim() !== "" && !apply(tailText, offset, tail.length);
    return { entries: this.live.size, tornTail, unreadableLines };
  }

  /**
   * Rewrites the journal as one "add" per live entry: write a temp file, fsync, rename, fsync the
   * folder. Bodies not in memory are copied from the current file, read in file order.
   */
  private async compact(): Promise<void> {
    const temp = `${this.file}.tmp`;
    // The entries as they are now: one added while the file is written has its own "add" queued,
    // and one removed meanwhile gets its "done" appended after the rename. Those with a body in
    // memory and no place in the file yet (their "add" is queued) go last.
    const entries = [...this.live.values()].sort((a, b) => (a.offset < 0 ? Infinity : a.offset) - (b.offset < 0 ? Infinity : b.offset));
    const places: Array<{ entry: StoredEntry; offset: number; length: number }> = [];
    const source = this.reader ? new WindowReader(this.reader, CHUNK_BYTES) : undefined;
    // Opened for reading too: after the rename this handle reads bodies back from the new journal.
    const handle = await fs.open(temp, "w+");
    const writer = new LineWriter(handle, 0);
    try {
      for (const entry of entries) {
        let body = entry.body;
        if (body === undefined) {
          if (!source) throw new Error(`callback ${entry.id} has no body in memory or on disk`);
          body = bodyOf(await source.line(entry.offset, entry.length), entry.id, entry.offset);
        }
        places.push({ entry, ...writer.push(addLine(entry, body)) });
        if (writer.full) await writer.flush();
      }
      await writer.flush();
      await handle.sync();
      await this.handle?.close();
      this.handle = undefined;
      await fs.rename(temp, this.file);
    } catch (err) {
      await handle.close();
      throw err;
    }
    // The new file is the journal now. Read handle and places switch in one step, with no await
    // in between, so no read can pair a new place with the old file; reads already started on
    // the old file finish first (FileHandle.close waits for them).
    const previous = this.reader;
    this.reader = handle;
    for (const { entry, offset, length } of places) {
      entry.offset = offset;
      entry.length = length;
    }
    this.fileBytes = writer.bytes;
    this.linesInFile = entries.length;
    void previous?.close().catch(() => undefined);
    await fsyncDir(path.dirname(this.file));
  }
}
