// Callbacks callback out gave up on, kept on disk beside the outbox so that "resend" works after a
// restart: one JSON line per change, appended and fsynced before the caller goes on (the same rule
// as the outbox), files 0600 opened without following symbolic links, at most `maxEntries` records no older than `maxAgeMs`. A crash can
// tear only the last line, which is skipped on open. The file is rewritten (temp file, fsync,
// rename) when it holds many lines for few live records.
import { promises as fs } from "node:fs";
import path from "node:path";
import { NO_FOLLOW_FLAGS } from "../outbox/journal-fs";
import { checkOwnFile } from "../outbox/own-files";
import type { GaveUpRecord, GaveUpView } from "../shared/views";
import { readAttempts } from "../shared/attempts";

export interface GaveUpOptions {
  maxEntries?: number;
  maxAgeMs?: number;
  now?: () => number;
}

export const DEFAULT_MAX_ENTRIES = 1000;
export const DEFAULT_MAX_AGE_MS = 7 * 24 * 3600 * 1000;
const FILE_MODE = 0o600;

function readRecord(value: unknown): GaveUpRecord | undefined {
  if (!value || typeof value !== "object") return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.id !== "string" || typeof v.executionId !== "string" || typeof v.body !== "string") return undefined;
  if (typeof v.attempts !== "number" || typeof v.at !== "number" || typeof v.why !== "string") return undefined;
  const record: GaveUpRecord = { id: v.id, executionId: v.executionId, body: v.body, attempts: v.attempts, at: v.at, why: v.why };
  if (typeof v.url === "string") record.url = v.url;
  if (typeof v.topic === "string") record.topic = v.topic;
  if (typeof v.statusCode === "number") record.statusCode = v.statusCode;
  const history = readAttempts(v.history);
  if (history) record.history = history;
  return record;
}

/** The file name beside the outbox journal `journalName` ("<id>.jsonl" -> "<id>.gave-up.jsonl"). */
export function gaveUpFileName(journalName: string): string {
  return journalName.replace(/\.jsonl$/, "") + ".gave-up.jsonl";
}

export class GaveUpStore {
  /** Insertion order is age order: the first key is the oldest record. */
  private readonly records = new Map<string, GaveUpRecord>();
  private linesInFile = 0;
  private pending: Array<{ line: string; resolve: () => void; reject: (err: Error) => void }> = [];
  private draining: Promise<void> | undefined;
  private handle: fs.FileHandle | undefined;
  private closed = false;
  private readonly maxEntries: number;
  private readonly maxAgeMs: number;
  private readonly now: () => number;

  private constructor(
    readonly file: string,
    options: GaveUpOptions,
  ) {
    this.maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    this.maxAgeMs = options.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
    this.now = options.now ?? Date.now;
  }

  static async open(file: string, options: GaveUpOptions = {}): Promise<GaveUpStore> {
    const store = new GaveUpStore(file, options);
    await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    // A symbolic link or another user's file here is refused: its records could be resent.
    await checkOwnFile(file, FILE_MODE);
    const text = await readWhole(file);
    const end = text.lastIndexOf("\n") + 1;
    for (const line of text.slice(0, end).split("\n")) store.replayLine(line);
    // A torn last line is cut off, so the next append starts on a line of its own.
    if (end < text.length) await truncateFile(file, Buffer.byteLength(text.slice(0, end)));
    store.prune();
    return store;
  }

  get size(): number {
    this.prune();
    return this.records.size;
  }

  /** Newest first, without bodies. */
  list(): GaveUpView[] {
    this.prune();
    const out: GaveUpView[] = [];
    for (const r of this.records.values()) {
      const view: GaveUpView = { id: r.id, executionId: r.executionId, attempts: r.attempts, at: r.at, why: r.why };
      if (r.statusCode !== undefined) view.statusCode = r.statusCode;
      out.push(view);
    }
    return out.reverse();
  }

  /** The record kept under outbox entry id `id`. */
  get(id: string): GaveUpRecord | undefined {
    return this.records.get(id);
  }

  /** Records (with bodies) whose execution_id is in `executionIds`, or all of them. */
  find(executionIds?: ReadonlySet<string>): GaveUpRecord[] {
    this.prune();
    return [...this.records.values()].filter((r) => !executionIds || executionIds.has(r.executionId));
  }

  /** Keeps `record`; resolves once it is on disk. */
  add(record: GaveUpRecord): Promise<void> {
    if (this.closed) return Promise.reject(new Error("the gave-up store is closed"));
    this.records.delete(record.id);
    this.records.set(record.id, { ...record });
    this.prune();
    return this.append(JSON.stringify({ op: "add", record }));
  }

  /** Forgets the records `ids` (resent); resolves once that is on disk. */
  remove(ids: readonly string[]): Promise<void> {
    const known = ids.filter((id) => this.records.delete(id));
    if (known.length === 0 || this.closed) return Promise.resolve();
    return this.append(JSON.stringify({ op: "del", ids: known }));
  }

  async close(): Promise<void> {
    this.closed = true;
    while (this.draining) await this.draining;
    await this.handle?.close();
    this.handle = undefined;
  }

  private replayLine(line: string): void {
    if (line.trim() === "") return;
    this.linesInFile++;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return; // an unreadable line costs only its own record
    }
    if (!value || typeof value !== "object") return;
    const op = (value as { op?: unknown }).op;
    if (op === "add") {
      const record = readRecord((value as { record?: unknown }).record);
      if (record) {
        this.records.delete(record.id);
        this.records.set(record.id, record);
      }
    } else if (op === "del") {
      const ids = (value as { ids?: unknown }).ids;
      if (Array.isArray(ids)) for (const id of ids) if (typeof id === "string") this.records.delete(id);
    }
  }

  /** Drops the records past the count limit or the age limit (the oldest come first in the map). */
  private prune(): void {
    const oldest = this.now() - this.maxAgeMs;
    for (const [id, record] of this.records) {
      if (this.records.size <= this.maxEntries && record.at >= oldest) break;
      this.records.delete(id);
    }
  }

  private append(line: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ line, resolve, reject });
      // Records that arrive in the same turn share one write and one fsync.
      if (!this.draining) this.draining = new Promise<void>((done) => setImmediate(() => void this.drain().then(done)));
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0);
        try {
          this.handle ??= await openOwnerOnly(this.file, NO_FOLLOW_FLAGS.a);
          await this.handle.write(batch.map((item) => `${item.line}\n`).join(""));
          await this.handle.sync();
          this.linesInFile += batch.length;
          for (const item of batch) item.resolve();
        } catch (err) {
          const error = err instanceof Error ? err : new Error(String(err));
          for (const item of batch) item.reject(error);
        }
        if (this.linesInFile > 2 * this.records.size + 64) await this.compact().catch(() => undefined);
      }
    } finally {
      this.draining = undefined;
    }
  }

  /** Writes the live records to a temp file and renames it over the file: one complete file exists at every instant. */
  private async compact(): Promise<void> {
    const temp = `${this.file}.tmp`;
    const handle = await openOwnerOnly(temp, NO_FOLLOW_FLAGS["w+"]);
    try {
      const lines = [...this.records.values()].map((record) => `${JSON.stringify({ op: "add", record })}\n`);
      await handle.write(lines.join(""));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await this.handle?.close();
    this.handle = undefined;
    await fs.rename(temp, this.file);
    const dir = await fs.open(path.dirname(this.file), "r");
    await dir.sync().finally(() => dir.close());
    this.linesInFile = this.records.size;
  }
}

/** Opens `file` (never through a symbolic link) and makes it 0600 even if it existed with a wider mode. */
async function openOwnerOnly(file: string, flags: number): Promise<fs.FileHandle> {
  const handle = await fs.open(file, flags, FILE_MODE);
  try {
    await handle.chmod(FILE_MODE);
  } catch (err) {
    await handle.close();
    throw err;
  }
  return handle;
}

/** The file's text, or "" when it does not exist; a symbolic link is refused (ELOOP). */
async function readWhole(file: string): Promise<string> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, NO_FOLLOW_FLAGS.r);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return "";
    throw err;
  }
  try {
    return await handle.readFile("utf8");
  } finally {
    await handle.close();
  }
}

async function truncateFile(file: string, length: number): Promise<void> {
  const handle = await fs.open(file, NO_FOLLOW_FLAGS.a);
  try {
    await handle.truncate(length);
  } finally {
    await handle.close();
  }
}
