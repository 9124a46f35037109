// The outbox on a full disk, beside another process, with file modes, and on a platform that
// cannot fsync a folder: file-system calls stood in for where Linux cannot show the case.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import {
  appendFileSync,
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Outbox, type OutboxEntry } from "../../../nodes/lib/outbox/outbox";
import { nodeJournalFs, type JournalFs, type JournalHandle } from "../../../nodes/lib/outbox/journal-fs";
import { JournalLockedError } from "../../../nodes/lib/outbox/journal-lock";
import { readRecord } from "../../../nodes/lib/outbox/records";

function entry(id: string, size = 200): OutboxEntry {
  const body = JSON.stringify({ execution_id: `exec_${id}`, result: { output: "é".repeat(size) } });
  return { id, executionId: `exec_${id}`, body, attempts: 0, dueAt: 1000, createdAt: 1 };
}

/** Writes past `limit.bytes` in any file are cut short, then refused with EFBIG, as under `prlimit --fsize`. */
function limitedFs(limit: { bytes: number }, seen = { tempOpens: 0 }): JournalFs {
  return {
    ...nodeJournalFs,
    open: async (file, flags, mode) => {
      if (file.endsWith(".tmp")) seen.tempOpens += 1;
      const handle = await nodeJournalFs.open(file, flags, mode);
      const limited: JournalHandle = {
        write: async (buffer, offset, length) => {
          const room = limit.bytes - statSync(file).size;
          if (room <= 0) throw Object.assign(new Error("EFBIG: file too large, write"), { code: "EFBIG" });
          return handle.write(buffer, offset, Math.min(length, room));
        },
        read: (buffer, offset, length, position) => handle.read(buffer, offset, length, position),
        sync: () => handle.sync(),
        truncate: (length) => handle.truncate(length),
        close: () => handle.close(),
      };
      return limited;
    },
  };
}

/** Every line of the journal is a whole record and the file ends with a newline. */
function assertWholeRecords(file: string): string[] {
  const text = readFileSync(file, "utf8");
  assert.ok(text === "" || text.endsWith("\n"), "the journal ends on a whole line");
  const lines = text.split("\n").filter(Boolean);
  for (const line of lines) assert.ok(readRecord(line), `a whole record: ${line.slice(0, 80)}`);
  return lines;
}

describe("lib/outbox durability", () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "outbox-dur-"));
    file = path.join(dir, "outbox", "node.jsonl");
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("refuses a group it could write only in part, cuts the journal back, and takes adds again once there is room", async () => {
    const limit = { bytes: 5000 };
    const { outbox } = await Outbox.open(file, { files: limitedFs(limit), bodyMemoryBytes: 0 });
    const acked: string[] = [];
    const refused: string[] = [];
    for (let round = 0; round < 10; round += 1) {
      const ids = [0, 1, 2].map((i) => `r${round}-${i}`);
      const results = await Promise.allSettled(ids.map((id) => outbox.add(entry(id))));
      results.forEach((result, i) => {
        if (result.status === "fulfilled") acked.push(ids[i] as string);
        else {
          refused.push(ids[i] as string);
          assert.match((result.reason as NodeJS.ErrnoException).code ?? "", /^(EFBIG|ESHORTWRITE)$/);
        }
      });
    }
    assert.ok(acked.length > 0 && refused.length > 0, `${acked.length} acknowledged, ${refused.length} refused`);
    assert.equal(outbox.size, acked.length, "refused entries are not kept");
    const lines = assertWholeRecords(file);
    assert.equal(lines.length, acked.length);
    assert.equal(statSync(file).size, Buffer.byteLength(lines.map((l) => `${l}\n`).join("")));
    for (const id of acked) assert.equal(await outbox.body(id), entry(id).body, id);

    limit.bytes = 1 << 30;
    await outbox.add(entry("after"));
    await outbox.close();
    const again = await Outbox.open(file);
    assert.deepEqual(
      again.outbox.entries().map((e) => e.id),
      [...acked, "after"],
    );
    for (const id of [...acked, "after"]) assert.equal(await again.outbox.body(id), entry(id).body, id);
    assert.deepEqual(again.replay, { entries: acked.length + 1, tornTail: false, unreadableLines: 0 });
    await again.outbox.close();
  });

  it("after a refused group, compacts (a rewrite holds only what is pending) and so takes adds again under a file-size limit", async () => {
    const limit = { bytes: 20_000 };
    const { outbox } = await Outbox.open(file, { files: limitedFs(limit), compactAfterLines: 1_000_000 });
    await outbox.add(entry("keep"));
    let refusedAt = -1;
    for (let i = 0; i < 1000 && refusedAt < 0; i += 1) {
      try {
        await outbox.add(entry(`e${i}`));
        await outbox.remove(`e${i}`);
      } catch {
        refusedAt = i;
      }
    }
    assert.ok(refusedAt > 0, "the journal reached the limit");
    await outbox.add(entry("after"));
    assert.ok(statSync(file).size < limit.bytes / 2, `compacted to ${statSync(file).size} bytes`);
    await outbox.close();
    const again = await Outbox.open(file);
    assert.deepEqual(
      again.outbox.entries().map((e) => e.id),
      ["keep", "after"],
    );
    await again.outbox.close();
  });

  it('writes a "done" a full disk refused with a later group, so a delivered callback is not sent again', async () => {
    const limit = { bytes: 1 << 30 };
    const { outbox } = await Outbox.open(file, { files: limitedFs(limit) });
    await outbox.add(entry("a"));
    await outbox.add(entry("b"));
    limit.bytes = statSync(file).size;
    await assert.rejects(outbox.remove("a"), { code: "EFBIG" });
    limit.bytes = 1 << 30;
    await outbox.add(entry("c"));
    await outbox.close();
    const again = await Outbox.open(file);
    assert.deepEqual(
      again.outbox.entries().map((e) => e.id),
      ["b", "c"],
    );
    await again.outbox.close();
  });

  it("opens on a full disk: the failed compaction leaves no temp file, appends go to the journal as it is, and compaction is retried with back-off", async () => {
    const first = await Outbox.open(file);
    for (const id of ["a", "b", "c"]) await first.outbox.add(entry(id));
    await first.outbox.remove("b");
    await first.outbox.close();
    appendFileSync(file, '{"op":"add","entry":{"id":"torn","execu');

    // Room for the journal's appends but not for a second copy of it.
    const limit = { bytes: statSync(file).size + 100_000 };
    const tempLimit = { bytes: 10 };
    const seen = { tempOpens: 0 };
    const files = limitedFs(limit, seen);
    const tempFull = limitedFs(tempLimit);
    let now = 1_000_000;
    const { outbox, replay } = await Outbox.open(file, {
      files: {
        ...files,
        open: (f, flags, mode) => (f.endsWith(".tmp") ? (seen.tempOpens++, tempFull.open(f, flags, mode)) : files.open(f, flags, mode)),
      },
      now: () => now,
    });
    assert.deepEqual(replay, { entries: 2, tornTail: true, unreadableLines: 0 });
    assert.ok(!existsSync(`${file}.tmp`), "no temp file left");
    assert.equal(seen.tempOpens, 1);
    for (let i = 0; i < 20; i += 1) await outbox.add(entry(`n${i}`));
    assert.equal(seen.tempOpens, 1, "not retried on every group");
    assertWholeRecords(file);

    now += 60_000;
    tempLimit.bytes = 1 << 30;
    await outbox.add(entry("late"));
    // The compaction runs after the group that set it off: the next group waits for it.
    await outbox.add(entry("later"));
    assert.equal(seen.tempOpens, 2, "retried once the back-off has passed");
    const lines = assertWholeRecords(file);
    // Compacted: only adds of pending entries are left (b's add and done are gone); an entry added
    // while the rewrite ran may appear twice, which replay reads as one.
    assert.deepEqual(
      new Set(lines.map((l) => (readRecord(l) as { op: string; entry: { id: string } }).entry?.id)),
      new Set(outbox.entries().map((e) => e.id)),
    );
    assert.ok(lines.length <= outbox.size + 2, `${lines.length} lines for ${outbox.size} entries`);
    await outbox.close();
    const again = await Outbox.open(file);
    assert.deepEqual(
      again.outbox
        .entries()
        .map((e) => e.id)
        .sort(),
      ["a", "c", "late", "later", ...Array.from({ length: 20 }, (_, i) => `n${i}`)].sort(),
    );
    assert.equal(again.replay.tornTail, false);
    await again.outbox.close();
  });

  it("refuses a journal another live process holds, naming its pid, and takes over the lock of one that is gone", async () => {
    const holder = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" });
    try {
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(`${file}.lock`, `${holder.pid}\n`);
      await assert.rejects(Outbox.open(file), (err: unknown) => err instanceof JournalLockedError && err.owner === holder.pid);
      assert.ok(!existsSync(file), "the journal was not touched");
    } finally {
      await new Promise((resolve) => {
        holder.once("exit", resolve);
        holder.kill("SIGKILL");
      });
    }
    const { outbox } = await Outbox.open(file);
    assert.equal(readFileSync(`${file}.lock`, "utf8").trim(), String(process.pid), "the stale lock was taken over");
    await outbox.add(entry("a"));
    await outbox.close();
    assert.ok(!existsSync(`${file}.lock`), "released on close");
  });

  it("creates the folder 0700 and the journal, its lock and its rewrites 0600", async () => {
    mkdirSync(path.dirname(file), { recursive: true });
    chmodSync(path.dirname(file), 0o755);
    const { outbox } = await Outbox.open(file, { compactAfterLines: 5 });
    assert.equal(statSync(path.dirname(file)).mode & 0o777, 0o700);
    assert.equal(statSync(`${file}.lock`).mode & 0o777, 0o600);
    for (let i = 0; i < 20; i += 1) {
      await outbox.add(entry(`e${i}`));
      await outbox.remove(`e${i}`);
      assert.equal(statSync(file).mode & 0o777, 0o600);
    }
    await outbox.close();
    assert.deepEqual(readdirSync(path.dirname(file)), ["node.jsonl"]);
  });

  for (const code of ["EPERM", "EISDIR", "EINVAL"]) {
    it(`opens and compacts where a folder cannot be fsynced (${code}, as on Windows)`, async () => {
      let dirSyncs = 0;
      const files: JournalFs = {
        ...nodeJournalFs,
        syncDir: () => {
          dirSyncs += 1;
          return Promise.reject(Object.assign(new Error(`${code}: operation not permitted, fsync`), { code }));
        },
      };
      const { outbox } = await Outbox.open(file, { files, compactAfterLines: 5 });
      for (let i = 0; i < 20; i += 1) {
        await outbox.add(entry(`e${i}`));
        if (i % 10 !== 0) await outbox.remove(`e${i}`);
      }
      assert.ok(dirSyncs > 1, "compactions ran");
      assert.ok(assertWholeRecords(file).length < 15, "the journal was compacted");
      await outbox.close();
      const again = await Outbox.open(file, { files });
      assert.deepEqual(
        again.outbox.entries().map((e) => e.id),
        ["e0", "e10"],
      );
      await again.outbox.close();
    });
  }
});
