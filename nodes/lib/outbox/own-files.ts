// Whether the outbox folder and its files belong to this process's user alone. Another user who
// can write the folder (or owns it, or a file in it) could plant a journal whose callbacks this
// node would then send with its own credentials, so such a folder or file is refused, never used.
import { nodeJournalFs, type JournalFs } from "./journal-fs";

export type UnsafeReason = "folder-owner" | "folder-writable" | "file-symlink" | "file-owner" | "file-kind";

export class UnsafeOutboxError extends Error {
  readonly code = "EUNSAFE";
  constructor(
    readonly reason: UnsafeReason,
    /** The folder or file refused. */
    readonly target: string,
    /** Its owner's uid, or its mode in octal (folder-writable). */
    readonly detail: string,
  ) {
    super(`the outbox ${reason.startsWith("folder") ? "folder" : "file"} ${target} is not safe to use (${reason} ${detail})`);
  }
}

/** Group or others may write. */
const WRITABLE_BY_OTHERS = 0o022;
/** Group or others may read or enter. */
const OPEN_TO_OTHERS = 0o077;

/**
 * Refuses a folder owned by another user or writable by group or others; tightens one that others
 * can only read (made by hand or by an older version) to `mode`. Nothing is checked on Windows.
 */
export async function checkOwnFolder(dir: string, mode: number, files: JournalFs = nodeJournalFs): Promise<void> {
  const uid = files.uid;
  if (uid === undefined) return;
  const facts = await files.facts(dir, true);
  if (!facts) throw new Error(`the outbox folder ${dir} does not exist`);
  if (facts.uid !== uid) throw new UnsafeOutboxError("folder-owner", dir, String(facts.uid));
  if ((facts.mode & WRITABLE_BY_OTHERS) !== 0) {
    throw new UnsafeOutboxError("folder-writable", dir, (facts.mode & 0o777).toString(8));
  }
  if ((facts.mode & OPEN_TO_OTHERS) !== 0) await files.chmod(dir, mode);
}

/**
 * Refuses a file of the outbox that is a symbolic link, not a plain file, or owned by another
 * user; tightens its mode to `mode`. A file that does not exist yet passes (it is created 0600).
 */
export async function checkOwnFile(file: string, mode: number, files: JournalFs = nodeJournalFs): Promise<void> {
  const facts = await files.facts(file, false);
  if (!facts) return;
  if (facts.symlink) throw new UnsafeOutboxError("file-symlink", file, "");
  if (!facts.file) throw new UnsafeOutboxError("file-kind", file, "");
  if (files.uid === undefined) return;
  if (facts.uid !== files.uid) throw new UnsafeOutboxError("file-owner", file, String(facts.uid));
  // The folder is this user's alone (checkOwnFolder), so nobody can swap the file before the chmod.
  if ((facts.mode & 0o777) !== mode) await files.chmod(file, mode);
}
