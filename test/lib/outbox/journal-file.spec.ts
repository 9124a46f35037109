import assert from "node:assert/strict";
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { JournalFile } from "../../../nodes/lib/outbox/journal-file";

describe("lib/outbox/journal-file", () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "journal-"));
    file = path.join(dir, "deep", "j.jsonl");
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("appends lines, says where each landed in bytes, and reads them back", async () => {
    const journal = await JournalFile.open(file);
    const first = await journal.append(["alpha", "é✓"], true);
    const second = await journal.append(["omega"], false);
    assert.deepEqual(first, [
      { offset: 0, length: 5 },
      { offset: 6, length: 5 },
    ]);
    assert.deepEqual(second, [{ offset: 12, length: 5 }]);
    assert.equal(readFileSync(file, "utf8"), "alpha\né✓\nomega\n");
    assert.equal(journal.lines, 3);
    await journal.close();
    const again = await JournalFile.open(file);
    const seen: Array<[string, number, number]> = [];
    assert.deepEqual(await again.replay((text, offset, length) => seen.push([text, offset, length]) > 0), {
      tornTail: false,
      unreadableLines: 0,
    });
    assert.deepEqual(seen, [
      ["alpha", 0, 5],
      ["é✓", 6, 5],
      ["omega", 12, 5],
    ]);
    assert.equal(await again.readLine(6, 5), "é✓");
    await again.close();
  });

  it("replays lines the reader rejects as unreadable and a cut last line as a torn tail", async () => {
    const journal = await JournalFile.open(file);
    await journal.append(["good", "bad", "good"], true);
    await journal.close();
    appendFileSync(file, "goo");
    const again = await JournalFile.open(file);
    assert.deepEqual(await again.replay((text) => text === "good"), { tornTail: true, unreadableLines: 1 });
    await again.close();
  });

  it("rewrites the file whole, moving reads to the new file at commit, and leaves no temp file", async () => {
    const journal = await JournalFile.open(file);
    const places = await journal.append(["one", "two", "three"], true);
    let committed: Array<{ offset: number; length: number }> = [];
    await journal.rewrite(
      [places[2]!, places[0]!],
      async (place, readOld) => `${await readOld(place.offset, place.length)}!`,
      (newPlaces) => {
        committed = newPlaces;
      },
    );
    assert.equal(readFileSync(file, "utf8"), "three!\none!\n");
    assert.deepEqual(committed, [
      { offset: 0, length: 6 },
      { offset: 7, length: 4 },
    ]);
    assert.equal(await journal.readLine(7, 4), "one!");
    assert.equal(journal.lines, 2);
    await journal.append(["four"], true);
    assert.equal(readFileSync(file, "utf8"), "three!\none!\nfour\n");
    assert.ok(!existsSync(`${file}.tmp`));
    await journal.close();
  });
});
