// Remembers execution_ids for a while so that a repeated callback is acknowledged but not emitted
// twice. Bounded: at most `cap` ids, the oldest dropped first.
export const DEDUPE_CAP = 100_000;

// Below this many dead slots the FIFO is not compacted (copying tiny arrays often costs more).
const COMPACT_MIN = 1024;

export class DedupeMemory {
  // The ids remembered. Membership only (a Set: no boxed time per id to allocate and keep); when
  // each was seen and their order live in the FIFO below.
  private readonly remembered = new Set<string>();
  // FIFO of (id, time seen) in arrival order, live from `head` on. A Map alone would do (it keeps
  // insertion order) but deleting from its front leaves dead slots that every later walk from the
  // front (expiry, eviction) steps over until V8 rehashes: 16–170 µs per id at the cap. Here
  // expiry and eviction only move `head`, and the dead prefix is cut off once it is half the array.
  // Invariant: each id in `remembered` has exactly one live FIFO slot and vice versa (ids are never
  // refreshed, and both removals take the FIFO's head), so an id remembered again after it expired
  // gets a fresh slot at the tail and no stale slot can remove it.
  private ids: string[] = [];
  private times: number[] = [];
  private head = 0;

  constructor(
    /** How long an id is remembered; may change when the node is redeployed with another setting. */
    public ttlMs: number,
    private readonly cap: number = DEDUPE_CAP,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.remembered.size;
  }

  /** True when `id` was remembered less than ttl ago. */
  has(id: string): boolean {
    this.expire(this.now());
    return this.remembered.has(id);
  }

  /**
   * Checks and remembers in one step: returns true when `id` is a duplicate, otherwise records
   * it and returns false.
   */
  checkAndRemember(id: string): boolean {
    const now = this.now();
    this.expire(now);
    if (this.remembered.has(id)) return true;
    this.remembered.add(id);
    this.ids.push(id);
    this.times.push(now);
    while (this.remembered.size > this.cap) this.dropOldest();
    this.compact();
    return false;
  }

  clear(): void {
    this.remembered.clear();
    this.ids = [];
    this.times = [];
    this.head = 0;
  }

  /** Forgets ids seen at or before now - ttl, oldest first (stops at the first younger one). */
  private expire(now: number): void {
    const cutoff = now - this.ttlMs;
    const { ids, times } = this;
    while (this.head < ids.length && (times[this.head] as number) <= cutoff) this.dropOldest();
    if (this.head > 0) this.compact();
  }

  private dropOldest(): void {
    const id = this.ids[this.head] as string;
    this.ids[this.head] = ""; // release the string for the GC before the compaction
    this.head++;
    this.remembered.delete(id);
  }

  /** Cuts off the dead prefix once it is at least half the array: O(1) amortised per id. */
  private compact(): void {
    if (this.head === this.ids.length) {
      this.ids = [];
      this.times = [];
      this.head = 0;
    } else if (this.head >= COMPACT_MIN && this.head * 2 >= this.ids.length) {
      this.ids = this.ids.slice(this.head);
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
  }
}
