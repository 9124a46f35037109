// The file-system calls the journal makes, behind one small interface so that tests can stand
// in for a full disk, a short write or a platform that cannot fsync a folder.
import { constants, promises as fs } from "node:fs";

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

/** What the outbox checks of a path before it trusts it (see own-files.ts). */
export interface PathFacts {
  uid: number;
  mode: number;
  symlink: boolean;
  file: boolean;
}

/** 0 where the platform has no O_NOFOLLOW (Windows). */
const NOFOLLOW = constants.O_NOFOLLOW ?? 0;

/**
 * The flags as numbers with O_NOFOLLOW: a symbolic link planted where a journal, lock or gave-up
 * file goes is refused (ELOOP) rather than followed to a file of someone else's choosing.
 */
export const NO_FOLLOW_FLAGS: Readonly<Record<OpenFlags, number>> = {
  a: constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | NOFOLLOW,
  r: constants.O_RDONLY | NOFOLLOW,
  "w+": constants.O_RDWR | constants.O_CREAT | constants.O_TRUNC | NOFOLLOW,
  wx: constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NOFOLLOW,
};

/** Facts of `file` (the link itself when `follow` is false), or undefined when it does not exist. */
export async function pathFacts(file: string, follow: boolean): Promise<PathFacts | undefined> {
  try {
    const stats = follow ? await fs.stat(file) : await fs.lstat(file);
    return { uid: stats.uid, mode: stats.mode, symlink: stats.isSymbolicLink(), file: stats.isFile() };
  } catch (err) {
    if (errorCode(err) === "ENOENT") return undefined;
    throw err;
  }
}

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
  /** See pathFacts. */
  facts(file: string, follow: boolean): Promise<PathFacts | undefined>;
  /** The user this process runs as; undefined where there are no POSIX owners (Windows). */
  readonly uid: number | undefined;
}

export const nodeJournalFs: JournalFs = {
  open: (file, flags, mode) => fs.open(file, NO_FOLLOW_FLAGS[flags], mode),
  mkdir: async (dir, mode) => {
    await fs.mkdir(dir, { recursive: true, mode });
  },
  chmod: (file, mode) => fs.chmod(file, mode),
  rename: (from, to) => fs.rename(from, to),
  unlink: (file) => fs.unlink(file),
  readFile: async (file) => {
    const handle = await fs.open(file, NO_FOLLOW_FLAGS.r);
    try {
      return await handle.readFile("utf8");
    } finally {
      await handle.close();
    }
  },
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
  facts: pathFacts,
  uid: process.getuid?.(),
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
