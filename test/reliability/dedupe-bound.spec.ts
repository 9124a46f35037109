// The dedupe memory of callback in is bounded: a flood of distinct execution_ids never holds more
// than its cap (100,000 in the node), forgets the oldest first, and its heap stops growing at the cap.
import assert from "node:assert/strict";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { DEDUPE_CAP, DedupeMemory } from "../../nodes/lib/dedupe";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

function heapMiB(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 1048576;
}

describe("reliability: dedupe memory under a flood of distinct ids", function () {
  this.timeout(120_000);

  it(`never holds more than its cap (${DEDUPE_CAP}) and forgets the oldest first`, () => {
    const memory = new DedupeMemory(86_400_000);
    const flood = 2 * DEDUPE_CAP;
    let largest = 0;
    for (let i = 0; i < flood; i++) {
      assert.equal(memory.checkAndRemember(`exec_flood_${i}`), false);
      if (memory.size > largest) largest = memory.size;
    }
    assert.equal(largest, DEDUPE_CAP);
    assert.equal(memory.size, DEDUPE_CAP);
    assert.equal(memory.has(`exec_flood_${flood - 1}`), true, "the newest is remembered");
    assert.equal(memory.has(`exec_flood_${flood - DEDUPE_CAP}`), true, "the oldest still inside the cap is remembered");
    assert.equal(memory.has(`exec_flood_${flood - DEDUPE_CAP - 1}`), false, "the one before it was dropped");
    assert.equal(memory.has("exec_flood_0"), false, "the first was dropped");
  });

  it("stops growing in heap once the cap is reached", () => {
    const before = heapMiB();
    let memory: DedupeMemory | undefined = new DedupeMemory(86_400_000);
    for (let i = 0; i < DEDUPE_CAP; i++) memory.checkAndRemember(`exec_${i.toString(36).padStart(12, "0")}_${i}`);
    const atCap = heapMiB();
    for (let i = DEDUPE_CAP; i < 3 * DEDUPE_CAP; i++) memory.checkAndRemember(`exec_${i.toString(36).padStart(12, "0")}_${i}`);
    const afterFlood = heapMiB();
    assert.equal(memory.size, DEDUPE_CAP);
    console.log(`      heap: ${before.toFixed(1)} MiB empty, ${atCap.toFixed(1)} at the cap, ${afterFlood.toFixed(1)} after twice the cap more`);
    assert.ok(atCap - before > 1, "the ids are really held (the measurement sees them)");
    // Unbounded, twice the cap more would add twice what the first cap took; bounded, only the
    // Map's spare capacity moves.
    assert.ok(afterFlood - atCap < 0.25 * (atCap - before), `heap grew ${(afterFlood - atCap).toFixed(1)} MiB past the cap`);
    memory = undefined;
    assert.ok(heapMiB() - before < 2, "and is given back when the node's memory is dropped");
  });

  it("expired ids leave before the cap is needed", () => {
    let now = 0;
    const memory = new DedupeMemory(1000, DEDUPE_CAP, () => now);
    for (let i = 0; i < 50_000; i++) {
      now = i; // one id per millisecond, a TTL of one second: about 1,000 alive at any time
      memory.checkAndRemember(`exec_${i}`);
      assert.ok(memory.size <= 1001, `size ${memory.size} at ${i}`);
    }
  });
});
