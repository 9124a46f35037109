import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Outbox, journalFileName, type OutboxEntry, type QueuedEntry } from "../../../nodes/lib/outbox/outbox";

function entry(id: string, extra: Partial<OutboxEntry> = {}): OutboxEntry {
  return { id, executionId: `exec_${id}`, body: `{"execution_id":"exec_${id}"}`, attempts: 0, dueAt: 1000, createdAt: 1, ...extra };
}

/** What get() gives: the entry without its body. */
function queued(id: string, extra: Partial<OutboxEntry> = {}): QueuedEntry {
  const { body: _body, ...rest } = entry(id, extra);
  return rest;
}

/** A body of about `bytes` characters, with non-ASCII text so byte and character counts differ. */
function bigBody(id: string, bytes: number): string {
  return JSON.stringify({ execution_id: `exec_${id}`, result: { output: "é✓ ".repeat(Math.ceil(bytes / 3)) } });
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
    await Promise.all([
      outbox.add(entry("a")),
      outbox.add(entry("b", { url: "http://127.0.0.1:1/x", topic: "t" })),
      outbox.add(entry("c")),
    ]);
    await outbox.reschedule("b", { attempts: 2, dueAt: 5000, lastStatus: 500 });
    await outbox.remove("a");
    await outbox.close();

    const again = await Outbox.open(file);
    assert.equal(again.replay.entries, 2);
    assert.deepEqual(
      again.outbox.get("b"),
      queued("b", { url: "http://127.0.0.1:1/x", topic: "t", attempts: 2, dueAt: 5000, lastStatus: 500 }),
    );
    assert.deepEqual(again.outbox.get("c"), queued("c"));
    assert.equal(await again.outbox.body("b"), entry("b").body);
    assert.equal(await again.outbox.body("c"), entry("c").body);
    assert.equal(again.outbox.get("a"), undefined);
    await assert.rejects(again.outbox.body("a"), /not in the outbox/);
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

  it("replays retries to the same state the live outbox had (a later retry without a status clears the old one)", async () => {
    const { outbox } = await Outbox.open(file);
    await outbox.add(entry("r"));
    await outbox.reschedule("r", { attempts: 1, dueAt: 2000, lastStatus: 503 });
    await outbox.reschedule("r", { attempts: 2, dueAt: 3000, lastError: "ECONNRESET" });
    const live = outbox.get("r");
    assert.deepEqual(live, queued("r", { attempts: 2, dueAt: 3000, lastError: "ECONNRESET" }));
    await outbox.close();
    // Without compaction on the way, the replay applies both retry records.
    const again = await Outbox.open(file);
    assert.deepEqual(again.outbox.get("r"), live);
    await again.outbox.close();
  });

  it("fsyncs groups holding an add, and only writes groups of retries and dones (a lost one means one more attempt)", async () => {
    const { outbox } = await Outbox.open(file);
    await outbox.add(entry("a"));
    assert.deepEqual([outbox.commits, outbox.fsyncs], [1, 1]);
    await outbox.reschedule("a", { attempts: 1, dueAt: 2000, lastStatus: 503 });
    await outbox.add(entry("b"));
    await outbox.remove("a");
    assert.deepEqual([outbox.commits, outbox.fsyncs], [4, 2]);
    // Written all the same: a reopen sees them.
    await outbox.close();
    const again = await Outbox.open(file);
    assert.deepEqual(
      again.outbox.entries().map((e) => e.id),
      ["b"],
    );
    await again.outbox.close();
  });

  it("writes a group larger than one write piece whole and in order (a burst of large callbacks)", async () => {
    const { outbox } = await Outbox.open(file, { bodyMemoryBytes: 0 });
    const bodies = Array.from({ length: 12 }, (_, i) => bigBody(`L${i}`, 300_000));
    await Promise.all(bodies.map((body, i) => outbox.add(entry(`L${i}`, { body }))));
    assert.equal(outbox.fsyncs, 1, "one fsync for the whole group");
    for (const [i, body] of bodies.entries()) assert.equal(await outbox.body(`L${i}`), body);
    await outbox.close();
    const again = await Outbox.open(file);
    assert.deepEqual(
      again.outbox.entries().map((e) => e.id),
      bodies.map((_, i) => `L${i}`),
    );
    await again.outbox.close();
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
    assert.deepEqual(
      third.outbox
        .entries()
        .map((e) => e.id)
        .sort(),
      ["a", "b", "d"],
    );
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
    assert.deepEqual(
      again.outbox.entries().map((e) => e.id),
      ["e7"],
    );
    await again.outbox.close();
  });

  it("refuses new entries once closed, and maps any node id to a safe file name", async () => {
    const { outbox } = await Outbox.open(file);
    await outbox.close();
    await assert.rejects(outbox.add(entry("x")), /closed/);
    assert.equal(journalFileName("a1b2.c3/../x"), "a1b2_c3____x.jsonl");
  });

  describe("bodies beyond the memory budget", () => {
    it("keeps bodies only on disk once the budget is spent, and reads each back byte for byte", async () => {
      const { outbox } = await Outbox.open(file, { bodyMemoryBytes: 3000 });
      const bodies = new Map<string, string>();
      for (let i = 0; i < 20; i += 1) bodies.set(`e${i}`, bigBody(`e${i}`, 1000));
      await Promise.all([...bodies].map(([id, body]) => outbox.add(entry(id, { body }))));
      assert.ok(outbox.bodyBytesInMemory <= 3000 + 1100, `${outbox.bodyBytesInMemory} characters of bodies held`);
      assert.ok(outbox.bodyBytesInMemory > 0, "the first bodies stay in memory");
      for (const [id, body] of bodies) assert.equal(await outbox.body(id), body, id);
      // Removing entries frees the budget: later bodies are held again.
      for (let i = 0; i < 20; i += 1) await outbox.remove(`e${i}`);
      assert.equal(outbox.bodyBytesInMemory, 0);
      await outbox.add(entry("late", { body: bigBody("late", 500) }));
      assert.ok(outbox.bodyBytesInMemory > 0);
      await outbox.close();
    });

    it("reads bodies back after compaction moved their lines, and after a reopen", async () => {
      const { outbox } = await Outbox.open(file, { bodyMemoryBytes: 0, compactAfterLines: 10 });
      const kept = new Map<string, string>();
      for (let i = 0; i < 40; i += 1) {
        const body = bigBody(`e${i}`, 200 + i);
        await outbox.add(entry(`e${i}`, { body }));
        if (i % 5 === 0) kept.set(`e${i}`, body);
        else await outbox.remove(`e${i}`);
      }
      await outbox.reschedule("e5", { attempts: 3, dueAt: 9000, lastError: "ECONNRESET" });
      const lines = readFileSync(file, "utf8").trim().split("\n");
      assert.ok(lines.length < 40, `compacted: ${lines.length} lines`);
      assert.equal(outbox.bodyBytesInMemory, 0);
      for (const [id, body] of kept) assert.equal(await outbox.body(id), body, id);
      await outbox.close();

      const again = await Outbox.open(file, { bodyMemoryBytes: 0 });
      assert.deepEqual(
        again.outbox.entries().map((e) => e.id),
        [...kept.keys()],
      );
      assert.deepEqual(again.outbox.get("e5"), queued("e5", { body: "", attempts: 3, dueAt: 9000, lastError: "ECONNRESET" }));
      for (const [id, body] of kept) assert.equal(await again.outbox.body(id), body, id);
      await again.outbox.close();
    });

    it("serves reads that started before a compaction from the file they started on", async () => {
      const { outbox } = await Outbox.open(file, { bodyMemoryBytes: 0, compactAfterLines: 5 });
      const bodies = new Map<string, string>();
      for (let i = 0; i < 8; i += 1) {
        bodies.set(`k${i}`, bigBody(`k${i}`, 300));
        await outbox.add(entry(`k${i}`, { body: bodies.get(`k${i}`) }));
      }
      // Four chains of reads, each starting the next as the last returns, so reads are in flight
      // at every step of the compactions the add/remove rounds below set off.
      let running = true;
      const ids = [...bodies.keys()];
      const chain = async (start: number): Promise<void> => {
        for (let i = start; running; i += 1) {
          const id = ids[i % ids.length] as string;
          assert.equal(await outbox.body(id), bodies.get(id), id);
          // Reads served from the read-ahead window resolve without I/O: let the rounds run.
          await new Promise((resolve) => setImmediate(resolve));
        }
      };
      const reads = [0, 1, 2, 3].map(chain);
      for (let round = 0; round < 60; round += 1) {
        await outbox.add(entry(`t${round}`));
        await outbox.remove(`t${round}`);
      }
      running = false;
      await Promise.all(reads);
      // Compactions did run meanwhile (else this would not test reads across them): 128 lines were written.
      assert.ok(readFileSync(file, "utf8").trim().split("\n").length < 8 + 2 * 60, "the journal was compacted");
      await outbox.close();
    });

    it("replays a journal longer than one read chunk with a torn tail", async () => {
      const { outbox } = await Outbox.open(file, { bodyMemoryBytes: 0 });
      const bodies = new Map<string, string>();
      for (let i = 0; i < 300; i += 1) bodies.set(`b${i}`, bigBody(`b${i}`, 5000));
      await Promise.all([...bodies].map(([id, body]) => outbox.add(entry(id, { body }))));
      await outbox.close();
      appendFileSync(file, '{"op":"add","entry":{"id":"torn","execu');
      const again = await Outbox.open(file, { bodyMemoryBytes: 0 });
      assert.deepEqual(again.replay, { entries: 300, tornTail: true, unreadableLines: 0 });
      for (const [id, body] of bodies) assert.equal(await again.outbox.body(id), body, id);
      await again.outbox.close();
    });

    it("says which record is wrong when the journal was changed under it", async () => {
      const { outbox } = await Outbox.open(file, { bodyMemoryBytes: 0 });
      await outbox.add(entry("a"));
      await outbox.add(entry("b"));
      // Swap the two lines in place (same total length): a's offset now holds b's record.
      const [first, second] = readFileSync(file, "utf8").trim().split("\n") as [string, string];
      writeFileSync(file, `${second}\n${first}\n`);
      await assert.rejects(outbox.body("a"), /not callback a's/);
      await outbox.close();
    });
  });
});
