import assert from "node:assert/strict";
import { DedupeMemory, DEDUPE_CAP } from "../../nodes/lib/dedupe";

describe("lib/dedupe", () => {
  it("reports a repeated id as a duplicate within the ttl, and forgets it after", () => {
    let now = 0;
    const memory = new DedupeMemory(1000, DEDUPE_CAP, () => now);
    assert.equal(memory.checkAndRemember("a"), false);
    now = 999;
    assert.equal(memory.checkAndRemember("a"), true);
    now = 1000;
    assert.equal(memory.checkAndRemember("a"), false, "expired after ttl");
  });

  it("does not extend an id's life when it repeats", () => {
    let now = 0;
    const memory = new DedupeMemory(1000, DEDUPE_CAP, () => now);
    memory.checkAndRemember("a");
    now = 900;
    assert.equal(memory.checkAndRemember("a"), true);
    now = 1001;
    assert.equal(memory.has("a"), false);
  });

  it("keeps at most cap ids, dropping the oldest first", () => {
    const memory = new DedupeMemory(60_000, 3, () => 0);
    for (const id of ["a", "b", "c", "d"]) memory.checkAndRemember(id);
    assert.equal(memory.size, 3);
    assert.equal(memory.has("a"), false);
    assert.equal(memory.has("b"), true);
    assert.equal(memory.has("d"), true);
  });

  it("defaults to a cap of 100,000", () => {
    const memory = new DedupeMemory(60_000, undefined, () => 0);
    for (let i = 0; i <= 100_000; i++) memory.checkAndRemember(`id-${i}`);
    assert.equal(DEDUPE_CAP, 100_000);
    assert.equal(memory.size, 100_000);
    assert.equal(memory.has("id-0"), false);
    assert.equal(memory.has("id-1"), true);
  });
});
