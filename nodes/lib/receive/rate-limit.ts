// Per-endpoint token bucket: a burst of up to `perMinute` requests is accepted at once, then
// tokens come back at `perMinute` per minute. 0 means unlimited.
export type TakeResult = { ok: true } | { ok: false; retryAfterSeconds: number };

export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = perMinute;
    this.updatedAt = now();
  }

  /** Spends a token when there is one. */
  take(): TakeResult {
    const result = this.peek();
    if (result.ok && this.perMinute > 0) this.tokens -= 1;
    return result;
  }

  /** Whether a take() would succeed now, without spending anything. */
  peek(): TakeResult {
    if (this.perMinute <= 0) return { ok: true };
    const now = this.now();
    const refillPerMs = this.perMinute / 60_000;
    this.tokens = Math.min(this.perMinute, this.tokens + Math.max(0, now - this.updatedAt) * refillPerMs);
    this.updatedAt = now;
    if (this.tokens >= 1) return { ok: true };
    // Seconds until one whole token is back, rounded up so that a retry at that time succeeds.
    const retryAfterSeconds = Math.max(1, Math.ceil((1 - this.tokens) / refillPerMs / 1000));
    return { ok: false, retryAfterSeconds };
  }
}
