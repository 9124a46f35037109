// Dedupe shared by every instance through the store, in two steps so that a callback is emitted
// exactly once even when the store's reply is lost (Redis restarting, a connection cut):
//   claim   the id is marked "pending" (only if unknown), for a short while;
//   commit  after the callback was emitted, the mark becomes "done" for the dedupe TTL.
// A claim whose reply was lost leaves "pending" behind without anything emitted: retries are told
// to come back (503) until it expires, then one of them claims and emits. "done" is a duplicate.
import type { StoreClient } from "../store/connection";
import { StoreScript } from "../store/script";

// KEYS[1] the id's key; ARGV[1] pending ms. The value found (nil when this call claimed it).
const CLAIM = new StoreScript(`
local found = redis.call('GET', KEYS[1])
if found then return found end
redis.call('SET', KEYS[1], 'pending', 'PX', ARGV[1])
return false
`);

/** How long a claim holds before another request may take over (a claim is committed within ms). */
export const PENDING_MS = 30_000;

/** The callback is being handled (or its claim's reply was lost): ask the sender to retry later. */
export class CallbackPendingError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super("callback is being processed");
    this.name = "CallbackPendingError";
  }
}

export class StoreDedupe {
  constructor(
    private readonly client: StoreClient,
    /** Key prefix of this node's ids (store prefix + node id). */
    private readonly keyPrefix: string,
    /** How long an id is remembered once emitted. */
    public ttlMs: number,
    private readonly pendingMs: number = PENDING_MS,
  ) {}

  /**
   * Claims `id`: false when this call claimed it (emit, then call emitted()), true for a duplicate.
   * Rejects with CallbackPendingError while another claim holds, and with StoreUnavailableError
   * when the store cannot be reached: in both cases nothing may be emitted.
   */
  async checkAndRemember(id: string): Promise<boolean> {
    const found = await CLAIM.run(this.client, [this.keyPrefix + id], [this.pendingMs]);
    if (found === null || found === undefined) return false;
    if (found === "pending") {
      const left = Number(await this.client.sendCommand(["PTTL", this.keyPrefix + id]));
      throw new CallbackPendingError(Math.max(1, Math.ceil(left / 1000)));
    }
    return true;
  }

  /** Marks a claimed id as emitted for the TTL; retried while its claim holds if the store is away. */
  async emitted(id: string): Promise<void> {
    const ttl = String(Math.max(1, Math.round(this.ttlMs)));
    const giveUpAt = Date.now() + this.pendingMs;
    for (;;) {
      try {
        await this.client.sendCommand(["SET", this.keyPrefix + id, "done", "PX", ttl]);
        return;
      } catch (err) {
        if (Date.now() + 500 >= giveUpAt) throw err;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }
}
