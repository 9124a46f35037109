import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Outbox, journalFileName, type OutboxEntry } from "../../nodes/lib/outbox";

function entry(id: string, extra: Partial<OutboxEntry> = {}): OutboxEntry {
  return { id, executionId: `exec_${id}`, body: `{"execution_id":"exec_${id}"}`, attempts: 0, dueAt: 1000, createdAt: 1, ...extra };
}

describe("lib/outbox", () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "outbox-"));
    file = path.join(dir, "sub", "node.jsonl");
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("keeps added entries across a reopen, with retries applied and finished ones gone", async () => {
    const { outbox, replay } = await Outbox.open(file);
    assert.deepEqual(replay, { entries: 0, tornTail: false, unreadableLines: 0 });
    await Promise.all([outbox.add(entry("a")), outbox.add(entry("b", { url: "http://127.0.0.1:1/x", topic: "t" })), outbox.add(entry("c"))]);
    await outbox.reschedule("b", { attempts: 2, dueAt: 5000, lastStatus: 500 });
    await outbox.remove("a");
    await outbox.close();

    const again = await Outbox.open(file);
    assert.equal(again.replay.entries, 2);
    assert.deepEqual(again.outbox.get("b"), entry("b", { url: "http://127.0.0.1:1/x", topic: "t", attempts: 2, dueAt: 5000, lastStatus: 500 }));
    assert.deepEqual(again.outbox.get("c"), entry("c"));
    assert.equal(again.outbox.get("a"), undefined);
    await again.outbox.close();
  });

  it("resolves add only once the record is on disk, grouping records of the same turn into one write", async () => {
    const { outbox } = await Outbox.open(file);
    const adds = Array.from({ length: 50 }, (_, i) => outbox.add(entry(`e${i}`)));
    assert.equal(outbox.size, 50, "counted at once");
    await Promise.all(adds);
    const lines = readFileSync(file, "utf8").trim().split("\n");
    assert.equal(lines.length, 50);
    assert.equal(outbox.commits, 1, "one write + fsync for the 50 records of one turn");
    // Records that arrive while a commit is on its way share the next one.
    const more = [outbox.add(entry("m0"))];
    await new Promise((resolve) => setImmediate(resolve));
    for (let i = 1; i < 20; i += 1) more.push(outbox.add(entry(`m${i}`)));
    await Promise.all(more);
    assert.ok(outbox.commits <= 3, `${outbox.commits - 1} commits for 20 records`);
    await outbox.close();
  });

  it("drops a torn last line and keeps every record before it", async () => {
    const { outbox } = await Outbox.open(file);
    await outbox.add(entry("a"));
    await outbox.add(entry("b"));
    await outbox.close();
    appendFileSync(file, '{"op":"add","entry":{"id":"c","execu');
    const { outbox: again, replay } = await Outbox.open(file);
    assert.deepEqual(replay, { entries: 2, tornTail: true, unreadableLines: 0 });
    // The rewrite on open means a new record starts on a clean line.
    await again.add(entry("d"));
    await again.close();
    const third = await Outbox.open(file);
    assert.deepEqual(third.outbox.entries().map((e) => e.id).sort(), ["a", "b", "d"]);
    assert.equal(third.replay.tornTail, false);
    await third.outbox.close();
  });

  it("skips an unreadable line in the middle without losing the others", async () => {
    const { outbox } = await Outbox.open(file);
    await outbox.close();
    writeFileSync(
      file,
      `${JSON.stringify({ op: "add", entry: entry("a") })}\nnot json\n${JSON.stringify({ op: "add", entry: entry("b") })}\n`,
    );
    const { outbox: again, replay } = await Outbox.open(file);
    assert.deepEqual(replay, { entries: 2, tornTail: false, unreadableLines: 1 });
    await again.close();
  });

  it("compacts a journal of mostly finished entries", async () => {
    const { outbox } = await Outbox.open(file, { compactAfterLines: 20 });
    for (let i = 0; i < 30; i += 1) {
      await outbox.add(entry(`e${i}`));
      if (i !== 7) await outbox.remove(`e${i}`);
    }
    const lines = readFileSync(file, "utf8").trim().split("\n");
    // 59 records were written; compaction keeps the file near its threshold instead.
    assert.ok(lines.length <= 21, `journal has ${lines.length} lines`);
    await outbox.close();
    const again = await Outbox.open(file);
    assert.deepEqual(again.outbox.entries().map((e) => e.id), ["e7"]);
    await again.outbox.close();
  });

  it("refuses new entries once closed, and maps any node id to a safe file name", async () => {
    const { outbox } = await Outbox.open(file);
    await outbox.close();
    await assert.rejects(outbox.add(entry("x")), /closed/);
    assert.equal(journalFileName("a1b2.c3/../x"), "a1b2_c3____x.jsonl");
  });
});
