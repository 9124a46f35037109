import assert from "node:assert/strict";
import { appendFileSync, chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { GaveUpStore, gaveUpFileName } from "../../../nodes/lib/send/gave-up-store";
import type { GaveUpRecord } from "../../../nodes/lib/shared/views";

function record(n: number, at: number): GaveUpRecord {
  return {
    id: `id${n}`,
    executionId: `exec_${n}`,
    body: `{"execution_id":"exec_${n}"}`,
    attempts: 3,
    at,
    why: "HTTP 503",
    statusCode: 503,
  };
}

describe("lib/send/gave-up-store", () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "gave-up-"));
    file = path.join(dir, "sub", gaveUpFileName("node1.jsonl"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("names its file beside the journal", () => {
    assert.equal(gaveUpFileName("a_b.jsonl"), "a_b.gave-up.jsonl");
  });

  it("keeps records across a reopen, on disk (mode 0600) once add resolves; remove is durable too", async () => {
    const store = await GaveUpStore.open(file, { now: () => 3000 });
    await store.add(record(1, 1000));
    await store.add(record(2, 2000));
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.match(readFileSync(file, "utf8"), /exec_2/);
    await store.remove(["id1"]);
    await store.close();
    const again = await GaveUpStore.open(file, { now: () => 3000 });
    assert.deepEqual(
      again.list().map((r) => r.executionId),
      ["exec_2"],
    );
    assert.equal(again.find(new Set(["exec_2"]))[0]?.body, '{"execution_id":"exec_2"}');
    assert.equal("body" in (again.list()[0] ?? {}), false);
    await again.close();
  });

  it("skips a torn last line and keeps every record before it", async () => {
    const store = await GaveUpStore.open(file, { now: () => 2000 });
    await store.add(record(1, 1000));
    await store.close();
    appendFileSync(file, '{"op":"add","record":{"id":"id2","exec');
    const again = await GaveUpStore.open(file, { now: () => 2000 });
    assert.deepEqual(
      again.list().map((r) => r.id),
      ["id1"],
    );
    await again.add(record(3, 2000));
    await again.close();
    const third = await GaveUpStore.open(file, { now: () => 2000 });
    assert.deepEqual(
      third.list().map((r) => r.id),
      ["id3", "id1"],
    );
    await third.close();
  });

  it("keeps at most maxEntries, the newest, and none older than maxAgeMs", async () => {
    let now = 0;
    const store = await GaveUpStore.open(file, { maxEntries: 5, maxAgeMs: 10_000, now: () => now });
    for (let n = 0; n < 8; n++) {
      now = n * 1000;
      await store.add(record(n, now));
    }
    assert.deepEqual(
      store.list().map((r) => r.id),
      ["id7", "id6", "id5", "id4", "id3"],
    );
    now = 15_500; // id3..id5 are now older than 10 s
    assert.deepEqual(
      store.list().map((r) => r.id),
      ["id7", "id6"],
    );
    await store.close();
    const again = await GaveUpStore.open(file, { maxEntries: 5, maxAgeMs: 10_000, now: () => now });
    assert.equal(again.size, 2);
    await again.close();
  });

  it("rewrites a file of mostly removed records, keeping the live ones", async () => {
    const now = (): number => 5000;
    const store = await GaveUpStore.open(file, { now });
    for (let n = 0; n < 200; n++) {
      await store.add(record(n, 1000 + n));
      if (n !== 199) await store.remove([`id${n}`]);
    }
    await store.close();
    const lines = readFileSync(file, "utf8").trim().split("\n").length;
    assert.ok(lines < 100, `${lines} lines after compaction`);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const again = await GaveUpStore.open(file, { now });
    assert.deepEqual(
      again.list().map((r) => r.id),
      ["id199"],
    );
    await again.close();
  });
  it("makes a file or temp file left with a wider mode 0600, and refuses a symbolic link in its place", async () => {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, "", { mode: 0o644 });
    chmodSync(file, 0o644);
    // A temp file left by a crash mid-compaction, with a wider mode that reopening would keep.
    writeFileSync(`${file}.tmp`, "", { mode: 0o644 });
    chmodSync(`${file}.tmp`, 0o644);
    const store = await GaveUpStore.open(file, { now: () => 3000 });
    await store.add(record(1, 1000));
    assert.equal(statSync(file).mode & 0o777, 0o600);
    // Enough lines for few records to compact through the temp file.
    for (let n = 2; n < 80; n += 1) {
      await store.add(record(n, 1000));
      await store.remove([`id${n}`]);
    }
    await store.close();
    assert.ok(readFileSync(file, "utf8").split("\n").filter(Boolean).length < 80, "compacted");
    assert.equal(statSync(file).mode & 0o777, 0o600);

    const target = path.join(dir, "target.jsonl");
    writeFileSync(target, "");
    rmSync(file);
    symlinkSync(target, file);
    await assert.rejects(GaveUpStore.open(file), /symbolic link|symlink/);
  });
});
