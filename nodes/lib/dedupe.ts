// Remembers execution_ids for a while so that a repeated callback is acknowledged but not emitted
// twice. Bounded: at most `cap` ids, the oldest dropped first.
export const DEDUPE_CAP = 100_000;

export class DedupeMemory {
  // Map keeps insertion order; ids are never refreshed, so the first entry is always the oldest.
  private readonly seenAt = new Map<string, number>();

  constructor(
    private readonly ttlMs: number,
    private readonly cap: number = DEDUPE_CAP,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.seenAt.size;
  }

  /** True when `id` was remembered less than ttl ago. */
  has(id: string): boolean {
    this.expire();
    return this.seenAt.has(id);
  }

  /**
   * Checks and remembers in one step: returns true when `id` is a duplicate, otherwise records
   * it and returns false.
   */
  checkAndRemember(id: string): boolean {
    if (this.has(id)) return true;
    this.seenAt.set(id, this.now());
    while (this.seenAt.size > this.cap) {
      const oldest = this.seenAt.keys().next();
      if (oldest.done) break;
      this.seenAt.delete(oldest.value);
    }
    return false;
  }

  clear(): void {
    this.seenAt.clear();
  }

  private expire(): void {
    const cutoff = this.now() - this.ttlMs;
    for (const [id, at] of this.seenAt) {
      if (at > cutoff) break;
      this.seenAt.delete(id);
    }
  }
}
