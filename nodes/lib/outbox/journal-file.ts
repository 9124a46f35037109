// The journal file: appends in groups (fsynced when asked), where each line lands, reads of
// single lines back, a replay pass over every line, and compaction by rewrite and rename, so
// that at every instant one complete journal exists on disk.
import { promises as fs } from "node:fs";
import path from "node:path";

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

async function fsyncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Calls `onLine(bytes, offset)` for each line of the file, a chunk at a time; returns the unterminated tail. */
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
    private readonly handle: fs.FileHandle,
    /** Bytes in the file before the next line: where it lands. */
    public bytes: number,
  ) {}

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
    const piece = this.piece;
    this.piece = "";
    await this.handle.write(piece);
  }
}

/** Reads lines at known places of one file through a window, since reads mostly come in file order. */
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

export class JournalFile {
  private appender: fs.FileHandle | undefined;
  /** Reads lines back; replaced after a rewrite (FileHandle.close waits for reads in flight). */
  private reader: fs.FileHandle | undefined;
  private window: WindowReader | undefined;
  /** Bytes in the file: where the next append lands. */
  private bytes = 0;
  private lineCount = 0;

  private constructor(readonly file: string) {}

  /** Creates the folder if needed; the file itself is created by the first append or rewrite. */
  static async open(file: string): Promise<JournalFile> {
    await fs.mkdir(path.dirname(file), { recursive: true });
    return new JournalFile(file);
  }

  /** Lines in the file (written since the last rewrite, or replayed). */
  get lines(): number {
    return this.lineCount;
  }

  /** Passes each line to `apply` (false: unreadable); a last line without newline is a torn tail unless it applies. */
  async replay(apply: (text: string, offset: number, length: number) => boolean): Promise<ReplayPass> {
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(this.file, "r");
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
    this.bytes = offset + tail.length;
    return { tornTail, unreadableLines };
  }

  /** Appends the lines in one go (fsynced when `sync`), and says where each landed. */
  async append(lines: readonly string[], sync: boolean): Promise<Place[]> {
    try {
      if (!this.appender) this.appender = await fs.open(this.file, "a");
      // Lines appended must be readable back even before the first replay or rewrite.
      if (!this.reader) this.reader = await fs.open(this.file, "r");
      const writer = new LineWriter(this.appender, this.bytes);
      const places: Place[] = [];
      for (const line of lines) {
        places.push(writer.push(line));
        if (writer.full) await writer.flush();
      }
      await writer.flush();
      if (sync) await this.appender.sync();
      this.bytes = writer.bytes;
      this.lineCount += lines.length;
      return places;
    } catch (err) {
      // Part of the group may have reached the file: find where the next append lands.
      this.bytes = await fs.stat(this.file).then(
        (s) => s.size,
        () => this.bytes,
      );
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
    // Opened for reading too: after the rename this handle reads lines back from the new journal.
    const handle = await fs.open(temp, "w+");
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
      await fs.rename(temp, this.file);
    } catch (err) {
      await handle.close();
      throw err;
    }
    // Reader and places switch with no await in between, so no read pairs a new place with the old file.
    const previous = this.reader;
    this.reader = handle;
    commit(places);
    this.bytes = writer.bytes;
    this.lineCount = items.length;
    void previous?.close().catch(() => undefined);
    await fsyncDir(path.dirname(this.file));
  }

  async close(): Promise<void> {
    await this.appender?.close();
    this.appender = undefined;
    await this.reader?.close();
    this.reader = undefined;
    this.window = undefined;
  }
}
