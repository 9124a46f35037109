// One process per journal: a lock file beside it holds the owner's process id. A lock whose
// process no longer runs (a crash, a container restart) is taken over.
import { errorCode, type JournalFs } from "./journal-fs";

export class JournalLockedError extends Error {
  readonly code = "ELOCKED";
  constructor(
    readonly file: string,
    readonly owner: number,
  ) {
    super(`the journal ${file} is in use by another process (pid ${owner})`);
  }
}

async function ownerOf(files: JournalFs, lock: string): Promise<number | undefined> {
  const text = await files.readFile(lock).catch(() => "");
  const pid = Number.parseInt(text.trim(), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Takes the lock of `file` for this process, or throws JournalLockedError naming the owner. */
export async function acquireLock(files: JournalFs, file: string): Promise<void> {
  const lock = `${file}.lock`;
  for (let tries = 0; tries < 3; tries += 1) {
    try {
      const handle = await files.open(lock, "wx", 0o600);
      try {
        await handle.write(Buffer.from(`${files.pid}\n`), 0, String(files.pid).length + 1);
      } finally {
        await handle.close();
      }
      return;
    } catch (err) {
      if (errorCode(err) !== "EEXIST") throw err;
    }
    const owner = await ownerOf(files, lock);
    // The same pid is this process (say pid 1 again after a container restart): nobody else holds it.
    if (owner !== undefined && owner !== files.pid && files.alive(owner)) throw new JournalLockedError(file, owner);
    await files.unlink(lock).catch((err: unknown) => {
      if (errorCode(err) !== "ENOENT") throw err;
    });
  }
  throw new JournalLockedError(file, (await ownerOf(files, lock)) ?? 0);
}

/** Lets go of the lock if this process still holds it. */
export async function releaseLock(files: JournalFs, file: string): Promise<void> {
  const lock = `${file}.lock`;
  if ((await ownerOf(files, lock)) === files.pid) await files.unlink(lock).catch(() => undefined);
}
