import assert from "node:assert/strict";
import fc from "fast-check";
import { DedupeMemory, DEDUPE_CAP } from "../../../nodes/lib/receive/dedupe";

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

  it("keeps an id remembered again after it expired, and evicts by the order ids were last remembered", () => {
    let now = 0;
    const memory = new DedupeMemory(1000, 2, () => now);
    memory.checkAndRemember("a");
    now = 1000; // "a" has expired
    assert.equal(memory.checkAndRemember("b"), false);
    assert.equal(memory.checkAndRemember("a"), false, "remembered afresh");
    assert.equal(memory.checkAndRemember("c"), false); // over the cap of 2: "b" is the oldest now
    assert.equal(memory.has("b"), false);
    assert.equal(memory.has("a"), true);
    assert.equal(memory.has("c"), true);
    now = 1999;
    assert.equal(memory.checkAndRemember("a"), true, "a's second life lasts a full ttl");
    now = 2000;
    assert.equal(memory.has("a"), false);
    assert.equal(memory.size, 0);
  });

  it("forgets expired ids only up to the first younger one, oldest first", () => {
    let now = 0;
    const memory = new DedupeMemory(1000, DEDUPE_CAP, () => now);
    memory.checkAndRemember("a");
    now = 500;
    memory.checkAndRemember("b");
    now = 1000;
    assert.equal(memory.has("a"), false);
    assert.equal(memory.has("b"), true);
    assert.equal(memory.size, 1);
  });

  it("behaves like a plain insertion-ordered Map over long random runs (expiry, cap, compaction)", () => {
    // The reference is the obvious (slow) implementation: a Map walked from its front.
    class Reference {
      readonly seen = new Map<string, number>();
      constructor(
        private readonly ttl: number,
        private readonly cap: number,
      ) {}
      expire(now: number): void {
        for (const [id, at] of this.seen) {
          if (at > now - this.ttl) break;
          this.seen.delete(id);
        }
      }
      checkAndRemember(id: string, now: number): boolean {
        this.expire(now);
        if (this.seen.has(id)) return true;
        this.seen.set(id, now);
        while (this.seen.size > this.cap) this.seen.delete(this.seen.keys().next().value as string);
        return false;
      }
    }
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3000 }),
        fc.integer({ min: 1, max: 400 }),
        fc.integer({ min: 1, max: 50_000 }),
        fc.integer({ min: 1, max: 5000 }),
        fc.integer(),
        (cap, ttl, pool, steps, seed) => {
          let rng = seed >>> 0 || 1;
          const next = (n: number): number => {
            rng = (Math.imul(rng, 1103515245) + 12345) >>> 0;
            return (rng >>> 8) % n;
          };
          let now = 0;
          const memory = new DedupeMemory(ttl, cap, () => now);
          const reference = new Reference(ttl, cap);
          for (let i = 0; i < steps * 4; i++) {
            // Mostly a steady stream (small clock steps, so ids expire a few at a time and the
            // FIFO's dead prefix grows past the compaction threshold), now and then a big jump.
            const roll = next(40);
            if (roll === 0 && next(50) === 0) now += next(ttl * 2);
            else if (roll < 10) now += 1;
            else if (roll < 14) {
              const id = `id-${next(pool)}`;
              reference.expire(now);
              assert.equal(memory.has(id), reference.seen.has(id), `has(${id}) at step ${i}`);
            } else {
              const id = `id-${next(pool)}`;
              assert.equal(memory.checkAndRemember(id), reference.checkAndRemember(id, now), `checkAndRemember(${id}) at step ${i}`);
            }
            assert.equal(memory.size, reference.seen.size, `size at step ${i}`);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it("can be cleared and used again", () => {
    let now = 0;
    const memory = new DedupeMemory(1000, 2, () => now);
    for (const id of ["a", "b", "c"]) memory.checkAndRemember(id);
    memory.clear();
    assert.equal(memory.size, 0);
    assert.equal(memory.checkAndRemember("c"), false);
    assert.equal(memory.checkAndRemember("d"), false);
    assert.equal(memory.checkAndRemember("e"), false);
    assert.deepEqual([memory.has("c"), memory.has("d"), memory.has("e")], [false, true, true]);
    now = 1000;
    assert.equal(memory.size, 2);
    assert.equal(memory.has("d"), false);
  });
});
