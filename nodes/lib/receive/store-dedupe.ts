// Dedupe shared by every instance through the store: one SET NX with the TTL per callback, so the
// same execution_id posted to two instances at the same moment is emitted by exactly one.
import type { StoreClient } from "../store/connection";

export class StoreDedupe {
  constructor(
    private readonly client: StoreClient,
    /** Key prefix of this node's ids (store prefix + node id). */
    private readonly keyPrefix: string,
    /** How long an id is remembered. */
    public ttlMs: number,
  ) {}

  /**
   * Checks and remembers in one step on the store: true when `id` is a duplicate. Rejects (with
   * StoreUnavailableError) when the store cannot be reached: then nothing is known about `id`.
   */
  async checkAndRemember(id: string): Promise<boolean> {
    const ttl = String(Math.max(1, Math.round(this.ttlMs)));
    const reply = await this.client.sendCommand(["SET", this.keyPrefix + id, "1", "NX", "PX", ttl]);
    return reply === null;
  }
}
