// The durable journal of pending callbacks: one JSON record per line, appended and fsynced in
// groups (one write + fsync for every record that arrived while the previous one was on its way),
// replayed on start, compacted when it holds mostly finished entries.
//
// A crash can tear only the last line (appends are sequential), so replay drops a torn tail and
// keeps every record before it. Compaction writes a new file and renames it over the old one, so
// at every instant one complete journal exists on disk.
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

export interface RetryUpdate {
  attempts: number;
  dueAt: number;
  lastStatus?: number | undefined;
  lastError?: string | undefined;
}

type JournalRecord =
  | { op: "add"; entry: OutboxEntry }
  | ({ op: "retry"; id: string } & RetryUpdate)
  | { op: "done"; id: string };

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
}

interface PendingWrite {
  line: string;
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

const COMPACT_CHUNK_CHARS = 1 << 20;

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

export class Outbox {
  private readonly live = new Map<string, OutboxEntry>();
  private handle: fs.FileHandle | undefined;
  private pending: PendingWrite[] = [];
  private draining: Promise<void> | undefined;
  private linesInFile = 0;
  private closed = false;
  private writes = 0;
  private readonly compactAfterLines: number;

  private constructor(
    readonly file: string,
    options: OutboxOptions,
  ) {
    this.compactAfterLines = options.compactAfterLines ?? 1000;
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

  /** Pending entries, oldest first. */
  entries(): OutboxEntry[] {
    return [...this.live.values()];
  }

  get(id: string): OutboxEntry | undefined {
    return this.live.get(id);
  }

  /** Counts at once; resolves when the entry is on disk (fsynced). */
  add(entry: OutboxEntry): Promise<void> {
    if (this.closed) return Promise.reject(new Error("the outbox is closed"));
    this.live.set(entry.id, entry);
    return this.write({ op: "add", entry }).catch((err: unknown) => {
      // Not durable, so not accepted: the caller reports the error on the msg.
      this.live.delete(entry.id);
      throw err;
    });
  }

  /** Records the attempt count and the next attempt's time. */
  reschedule(id: string, update: RetryUpdate): Promise<void> {
    const entry = this.live.get(id);
    if (!entry || this.closed) return Promise.resolve();
    entry.attempts = update.attempts;
    entry.dueAt = update.dueAt;
    if (update.lastStatus !== undefined) entry.lastStatus = update.lastStatus;
    else delete entry.lastStatus;
    if (update.lastError !== undefined) entry.lastError = update.lastError;
    else delete entry.lastError;
    return this.write({ op: "retry", id, ...update });
  }

  /** Delivered or given up: the entry leaves the journal. */
  remove(id: string): Promise<void> {
    if (!this.live.delete(id) || this.closed) return Promise.resolve();
    return this.write({ op: "done", id });
  }

  /** Waits for every queued write, then closes the file. The journal stays on disk. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.draining) await this.draining;
    await this.handle?.close();
    this.handle = undefined;
  }

  private write(record: JournalRecord): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ line: `${JSON.stringify(record)}\n`, resolve, reject });
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
          await handle.write(batch.map((item) => item.line).join(""));
          await handle.sync();
          this.writes += 1;
          this.linesInFile += batch.length;
          for (const item of batch) item.resolve();
        } catch (err) {
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

  private async fileHandle(): Promise<fs.FileHandle> {
    if (!this.handle) this.handle = await fs.open(this.file, "a");
    return this.handle;
  }

  private async replay(): Promise<ReplayReport> {
    let text: string;
    try {
      text = await fs.readFile(this.file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return { entries: 0, tornTail: false, unreadableLines: 0 };
      throw err;
    }
    const lines = text.split("\n");
    // The text after the last newline is either empty or a line the crash cut short.
    const tail = lines.pop() ?? "";
    let tornTail = false;
    let unreadableLines = 0;
    const apply = (line: string): boolean => {
      let record: JournalRecord | undefined;
      try {
        record = readRecord(line);
      } catch {
        record = undefined;
      }
      if (!record) return false;
      if (record.op === "add") this.live.set(record.entry.id, record.entry);
      else if (record.op === "done") this.live.delete(record.id);
      else {
        const entry = this.live.get(record.id);
        if (entry) {
          entry.attempts = record.attempts;
          entry.dueAt = record.dueAt;
          if (record.lastStatus !== undefined) entry.lastStatus = record.lastStatus;
          if (record.lastError !== undefined) entry.lastError = record.lastError;
        }
      }
      return true;
    };
    for (const line of lines) {
      if (line.trim() === "") continue;
      if (!apply(line)) unreadableLines += 1;
    }
    if (tail.trim() !== "" && !apply(tail)) tornTail = true;
    return { entries: this.live.size, tornTail, unreadableLines };
  }

  /** Rewrites the journal as one "add" per live entry: write a temp file, fsync, rename, fsync the folder. */
  private async compact(): Promise<void> {
    const temp = `${this.file}.tmp`;
    // The entries as they are now: one added while the file is written has its own "add" queued,
    // and one removed meanwhile gets its "done" appended after the rename.
    const entries = [...this.live.values()];
    const handle = await fs.open(temp, "w");
    try {
      // Written in chunks of about 1 MiB, never one string of the whole journal (100 MiB at 100,000 queued).
      let chunk = "";
      for (const entry of entries) {
        chunk += `${JSON.stringify({ op: "add", entry })}\n`;
        if (chunk.length >= COMPACT_CHUNK_CHARS) {
          await handle.write(chunk);
          chunk = "";
        }
      }
      if (chunk.length > 0) await handle.write(chunk);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await this.handle?.close();
    this.handle = undefined;
    await fs.rename(temp, this.file);
    await fsyncDir(path.dirname(this.file));
    this.linesInFile = entries.length;
  }
}
