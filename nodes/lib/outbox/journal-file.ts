// The journal file: appends in groups (fsynced when asked), where each line lands, reads of
// single lines back, a replay pass over every line, and compaction by rewrite and rename, so
// that at every instant one complete journal exists on disk. A group that cannot be written
// whole is cut off again, so the file only ever holds whole records.
import path from "node:path";
import { nodeJournalFs, syncDirWherePossible, writeAll, type JournalFs, type JournalHandle } from "./journal-fs";
import { acquireLock, releaseLock } from "./journal-lock";
import { checkOwnFile, checkOwnFolder } from "./own-files";

export interface Place {
  /** Bytes before the line in the file. */
  offset: number;
  /** Bytes of the line, newline excluded. */
  length: number;
}

export interface ReplayPass {
  tornTail: boolean;
  unreadableLines: number;
}

const CHUNK_BYTES = 1 << 20;
const READ_AHEAD_BYTES = 64 * 1024;
const NEWLINE = 0x0a;

/** Bodies and msg.urls can hold secrets: only the owner reads the journal. */
const DIR_MODE = 0o700;
const FILE_MODE = 0o600;

/** Calls `onLine(bytes, offset)` for each line of the file, a chunk at a time; returns the unterminated tail. */
async function forEachLine(
  handle: JournalHandle,
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
    // Copied, so the chunk is not kept alive by a short tail.
    carry = Buffer.from(data.subarray(start));
    carryOffset += start;
  }
  return { tail: carry, offset: carryOffset };
}

/** Buffers lines into pieces of about 1 MiB, so no string ever holds a whole group or journal. */
class LineWriter {
  private piece = "";
  constructor(
    private readonly handle: JournalHandle,
    /** Bytes in the file before the next line: where it lands. */
    public bytes: number,
  ) {}

  /** Starts the next line on a line of its own (after a last record that had no newline). */
  newline(): void {
    this.piece += "\n";
    this.bytes += 1;
  }

  push(line: string): Place {
    const length = Buffer.byteLength(line);
    const place = { offset: this.bytes, length };
    this.piece += `${line}\n`;
    this.bytes += length + 1;
    return place;
  }

  get full(): boolean {
    return this.piece.length >= CHUNK_BYTES;
  }

  async flush(): Promise<void> {
    if (this.piece.length === 0) return;
    const piece = Buffer.from(this.piece);
    this.piece = "";
    await writeAll(this.handle, piece);
  }
}

/** Reads lines at known places of one file through a window, since reads mostly come in file order. */
class WindowReader {
  private window = Buffer.alloc(0);
  private start = 0;
  constructor(
    readonly handle: JournalHandle,
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

export class JournalFile {
  private appender: JournalHandle | undefined;
  /** Reads lines back; replaced after a rewrite (closing a handle waits for reads in flight). */
  private reader: JournalHandle | undefined;
  private window: WindowReader | undefined;
  /** Bytes of whole records in the file: where the next append lands. */
  private bytes = 0;
  private lineCount = 0;
  /** The file holds bytes past `bytes` (a torn tail, or a group cut short) to cut off before the next append. */
  private dirty = false;
  /** The last record has no newline: the next append starts with one. */
  private unterminated = false;
  private locked = false;

  private constructor(
    readonly file: string,
    private readonly files: JournalFs,
  ) {}

  /** Creates the folder (owner only) and takes the lock; the file is created by the first append or rewrite. */
  static async open(file: string, files: JournalFs = nodeJournalFs): Promise<JournalFile> {
    const dir = path.dirname(file);
    await files.mkdir(dir, DIR_MODE);
    // A folder made by hand keeps its mode on mkdir: another user's, or one others can write, is refused.
    await checkOwnFolder(dir, DIR_MODE, files);
    const journal = new JournalFile(file, files);
    await acquireLock(files, file);
    journal.locked = true;
    try {
      await checkOwnFile(file, FILE_MODE, files);
    } catch (err) {
      await journal.close().catch(() => undefined);
      throw err;
    }
    return journal;
  }

  /** Lines in the file (written since the last rewrite, or replayed). */
  get lines(): number {
    return this.lineCount;
  }

  /** Passes each line to `apply` (false: unreadable); a last line without newline is a torn tail unless it applies. */
  async replay(apply: (text: string, offset: number, length: number) => boolean): Promise<ReplayPass> {
    let handle: JournalHandle;
    try {
      handle = await this.files.open(this.file, "r");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return { tornTail: false, unreadableLines: 0 };
      throw err;
    }
    this.reader = handle;
    let unreadableLines = 0;
    const { tail, offset } = await forEachLine(handle, (line, at) => {
      const text = line.toString("utf8");
      if (text.trim() === "") return;
      this.lineCount += 1;
      if (!apply(text, at, line.length)) unreadableLines += 1;
    });
    // The bytes after the last newline are either nothing or a line the crash cut short.
    const tailText = tail.toString("utf8");
    const tornTail = tailText.trim() !== "" && !apply(tailText, offset, tail.length);
    if (tornTail) this.dirty = true;
    else if (tail.length > 0) this.unterminated = true;
    this.bytes = tornTail ? offset : offset + tail.length;
    return { tornTail, unreadableLines };
  }

  /**
   * Appends the lines in one go (fsynced when `sync`) and says where each landed. When they
   * cannot all be written, the file is cut back to where it was and the error thrown.
   */
  async append(lines: readonly string[], sync: boolean): Promise<Place[]> {
    const appender = await this.appendHandle();
    const writer = new LineWriter(appender, this.bytes);
    try {
      if (this.unterminated) writer.newline();
      const places: Place[] = [];
      for (const line of lines) {
        places.push(writer.push(line));
        if (writer.full) await writer.flush();
      }
      await writer.flush();
      if (sync) await appender.sync();
      this.bytes = writer.bytes;
      this.unterminated = false;
      this.lineCount += lines.length;
      return places;
    } catch (err) {
      this.dirty = true;
      await this.cutBack(appender).catch(() => undefined);
      throw err;
    }
  }

  /** The line at `place`; the file is chosen when called, so a rewrite meanwhile cannot mix two files. */
  readLine(offset: number, length: number): Promise<string> {
    const reader = this.reader;
    if (!reader) return Promise.reject(new Error(`the journal has no record at byte ${offset}`));
    if (this.window?.handle !== reader) this.window = new WindowReader(reader, READ_AHEAD_BYTES);
    return this.window.line(offset, length);
  }

  /**
   * Rewrites the journal as `lineOf(item)` for each item (write a temp file, fsync, rename, fsync
   * the folder). `lineOf` may read lines of the current file with its second argument. `commit`
   * is called with each item's new place at the instant the new file becomes the one read from.
   */
  async rewrite<T>(
    items: readonly T[],
    lineOf: (item: T, readOld: (offset: number, length: number) => Promise<string>) => string | Promise<string>,
    commit: (places: Place[]) => void,
  ): Promise<void> {
    const temp = `${this.file}.tmp`;
    const source = this.reader ? new WindowReader(this.reader, CHUNK_BYTES) : undefined;
    const readOld = (offset: number, length: number): Promise<string> =>
      source ? source.line(offset, length) : Promise.reject(new Error(`the journal has no record at byte ${offset}`));
    // A temp file left by an older version may have a wider mode, which opening it keeps.
    await this.files.unlink(temp).catch(() => undefined);
    // Opened for reading too: after the rename this handle reads lines back from the new journal.
    const handle = await this.files.open(temp, "w+", FILE_MODE);
    const writer = new LineWriter(handle, 0);
    const places: Place[] = [];
    try {
      for (const item of items) {
        places.push(writer.push(await lineOf(item, readOld)));
        if (writer.full) await writer.flush();
      }
      await writer.flush();
      await handle.sync();
      await this.appender?.close();
      this.appender = undefined;
      await this.files.rename(temp, this.file);
    } catch (err) {
      await handle.close().catch(() => undefined);
      // No temp file is left behind: a full disk needs every byte.
      await this.files.unlink(temp).catch(() => undefined);
      throw err;
    }
    // Reader and places switch with no await in between, so no read pairs a new place with the old file.
    const previous = this.reader;
    this.reader = handle;
    commit(places);
    this.bytes = writer.bytes;
    this.lineCount = items.length;
    this.dirty = false;
    this.unterminated = false;
    void previous?.close().catch(() => undefined);
    await syncDirWherePossible(this.files, path.dirname(this.file));
  }

  async close(): Promise<void> {
    await this.appender?.close();
    this.appender = undefined;
    await this.reader?.close();
    this.reader = undefined;
    this.window = undefined;
    if (this.locked) await releaseLock(this.files, this.file);
    this.locked = false;
  }

  /** The handle appends go through, with any bytes past the last whole record cut off first. */
  private async appendHandle(): Promise<JournalHandle> {
    if (!this.appender) this.appender = await this.files.open(this.file, "a", FILE_MODE);
    // Lines appended must be readable back even before the first replay or rewrite.
    if (!this.reader) this.reader = await this.files.open(this.file, "r");
    if (this.dirty) await this.cutBack(this.appender);
    return this.appender;
  }

  /** Cuts the file back to its whole records. */
  private async cutBack(appender: JournalHandle): Promise<void> {
    await appender.truncate(this.bytes);
    this.dirty = false;
  }
}
