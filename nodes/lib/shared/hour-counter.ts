// Events per minute for the last hour, in a ring of 60 buckets: O(1) to count, for the sidebar's
// counts and its chart of the last hour.

/** Time, injectable so tests can move it. */
export type Now = () => number;

const MINUTE_MS = 60_000;
const BUCKETS = 60;

export class HourCounter {
  private readonly counts = new Array<number>(BUCKETS).fill(0);
  private readonly minutes = new Array<number>(BUCKETS).fill(-1);

  constructor(private readonly now: Now = Date.now) {}

  add(): void {
    const minute = Math.floor(this.now() / MINUTE_MS);
    const slot = minute % BUCKETS;
    if (this.minutes[slot] !== minute) {
      this.minutes[slot] = minute;
      this.counts[slot] = 0;
    }
    this.counts[slot] = (this.counts[slot] ?? 0) + 1;
  }

  /** Events in the current minute and the 59 before it. */
  total(): number {
    return this.perMinute().reduce((sum, n) => sum + n, 0);
  }

  /** Events per minute, the oldest of the last 60 minutes first and the current minute last. */
  perMinute(): number[] {
    const minute = Math.floor(this.now() / MINUTE_MS);
    const out = new Array<number>(BUCKETS).fill(0);
    for (let slot = 0; slot < BUCKETS; slot++) {
      const at = this.minutes[slot] ?? -1;
      if (at > minute - BUCKETS && at <= minute) out[BUCKETS - 1 - (minute - at)] = this.counts[slot] ?? 0;
    }
    return out;
  }
}
