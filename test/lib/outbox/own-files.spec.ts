import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, lstatSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { nodeJournalFs, type JournalFs } from "../../../nodes/lib/outbox/journal-fs";
import { acquireLock } from "../../../nodes/lib/outbox/journal-lock";
import { UnsafeOutboxError, checkOwnFile, checkOwnFolder } from "../../../nodes/lib/outbox/own-files";

describe("lib/outbox/own-files", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "own-files-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("tightens a folder others can only read to 0700, and refuses one group or others can write", async () => {
    const folder = path.join(dir, "outbox");
    mkdirSync(folder);
    chmodSync(folder, 0o755);
    await checkOwnFolder(folder, 0o700);
    assert.equal(statSync(folder).mode & 0o777, 0o700);
    for (const mode of [0o770, 0o702, 0o1777]) {
      chmodSync(folder, mode);
      await assert.rejects(
        checkOwnFolder(folder, 0o700),
        (err: unknown) => err instanceof UnsafeOutboxError && err.reason === "folder-writable",
      );
      assert.equal(statSync(folder).mode & 0o7777, mode, "a refused folder keeps its mode");
    }
  });

  it("refuses a file that is a symbolic link or not a plain file; tightens a plain one to 0600", async () => {
    const file = path.join(dir, "out.jsonl");
    writeFileSync(file, "");
    chmodSync(file, 0o644);
    await checkOwnFile(file, 0o600);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const link = path.join(dir, "link.jsonl");
    symlinkSync(file, link);
    await assert.rejects(checkOwnFile(link, 0o600), (err: unknown) => err instanceof UnsafeOutboxError && err.reason === "file-symlink");
    mkdirSync(path.join(dir, "folder.jsonl"));
    await assert.rejects(
      checkOwnFile(path.join(dir, "folder.jsonl"), 0o600),
      (err: unknown) => err instanceof UnsafeOutboxError && err.reason === "file-kind",
    );
    await checkOwnFile(path.join(dir, "missing.jsonl"), 0o600);
  });

  it("checks no owner or mode where the platform has no POSIX owners (Windows)", async () => {
    const windows: JournalFs = { ...nodeJournalFs, uid: undefined };
    const folder = path.join(dir, "outbox");
    mkdirSync(folder);
    chmodSync(folder, 0o777);
    await checkOwnFolder(folder, 0o700, windows);
    assert.equal(statSync(folder).mode & 0o777, 0o777);
  });

  it("the lock never reads through a symbolic link: one planted there is replaced, its target untouched", async () => {
    const journal = path.join(dir, "out.jsonl");
    const target = path.join(dir, "target");
    // Read through the link, "1" would be a running process holding the lock: nothing would be sent.
    writeFileSync(target, "1\n");
    symlinkSync(target, `${journal}.lock`);
    await acquireLock(nodeJournalFs, journal);
    assert.ok(lstatSync(`${journal}.lock`).isFile());
    assert.equal(readFileSync(`${journal}.lock`, "utf8"), `${process.pid}\n`);
    assert.equal(readFileSync(target, "utf8"), "1\n");
  });
});
