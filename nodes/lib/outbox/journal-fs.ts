// The file-system calls the journal makes, behind one small interface so that tests can stand
// in for a full disk, a short write or a platform that cannot fsync a folder.
import { promises as fs } from "node:fs";

/** The part of a FileHandle the journal uses. */
export interface JournalHandle {
  /** Without a position: at the end for a handle opened to append. May write fewer bytes than asked. */
  write(buffer: Buffer, offset: number, length: number): Promise<{ bytesWritten: number }>;
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  sync(): Promise<void>;
  truncate(length: number): Promise<void>;
  close(): Promise<void>;
}

export type OpenFlags = "a" | "r" | "w+" | "wx";

export interface JournalFs {
  open(file: string, flags: OpenFlags, mode?: number): Promise<JournalHandle>;
  /** Creates the folder and its parents with `mode`. */
  mkdir(dir: string, mode: number): Promise<void>;
  chmod(file: string, mode: number): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(file: string): Promise<void>;
  readFile(file: string): Promise<string>;
  /** Makes a rename in `dir` durable; Windows cannot do it (see syncDirWherePossible). */
  syncDir(dir: string): Promise<void>;
  /** Whether a process with this id runs now. */
  alive(pid: number): boolean;
  readonly pid: number;
}

export const nodeJournalFs: JournalFs = {
  open: (file, flags, mode) => fs.open(file, flags, mode),
  mkdir: async (dir, mode) => {
    await fs.mkdir(dir, { recursive: true, mode });
  },
  chmod: (file, mode) => fs.chmod(file, mode),
  rename: (from, to) => fs.rename(from, to),
  unlink: (file) => fs.unlink(file),
  readFile: (file) => fs.readFile(file, "utf8"),
  syncDir: async (dir) => {
    const handle = await fs.open(dir, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
  alive: (pid) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch (err) {
      // EPERM: it runs, as another user.
      return (err as NodeJS.ErrnoException).code === "EPERM";
    }
  },
  pid: process.pid,
};

export function errorCode(err: unknown): string | undefined {
  return err instanceof Error ? (err as NodeJS.ErrnoException).code : undefined;
}

/** Codes a platform gives when a folder cannot be opened or fsynced at all (Windows). */
const NO_DIR_SYNC = new Set(["EPERM", "EISDIR", "EINVAL"]);

/** Fsyncs a folder where the platform can; where it cannot, the rename stands as the OS keeps it. */
export async function syncDirWherePossible(files: JournalFs, dir: string): Promise<void> {
  try {
    await files.syncDir(dir);
  } catch (err) {
    if (!NO_DIR_SYNC.has(errorCode(err) ?? "")) throw err;
  }
}

/** Codes that mean the disk (or the process's file-size limit) has no room for the write. */
const NO_ROOM = new Set(["ENOSPC", "EFBIG", "EDQUOT", "ESHORTWRITE"]);

export function isNoRoom(err: unknown): boolean {
  return NO_ROOM.has(errorCode(err) ?? "");
}

/** Writes all of `buffer`, continuing after short writes; a write that makes no progress is an error. */
export async function writeAll(handle: JournalHandle, buffer: Buffer): Promise<void> {
  let done = 0;
  while (done < buffer.length) {
    const { bytesWritten } = await handle.write(buffer, done, buffer.length - done);
    if (bytesWritten <= 0) {
      const err: NodeJS.ErrnoException = new Error(`short write: ${done} of ${buffer.length} bytes written`);
      err.code = "ESHORTWRITE";
      throw err;
    }
    done += bytesWritten;
  }
}
