// The per-endpoint token bucket kept in the store, so that every instance draws from one bucket:
// the limit holds for the endpoint, not per instance. Same rule as TokenBucket (a burst of
// `perMinute`, then `perMinute` tokens a minute), on the store's clock so instances agree.
import type { StoreClient } from "../store/connection";
import { StoreScript } from "../store/script";
import type { TakeResult } from "./rate-limit";

// KEYS[1] bucket hash; ARGV[1] tokens per minute. Returns {1, 0} or {0, seconds to wait}.
const TAKE = new StoreScript(`
local rate = tonumber(ARGV[1])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local saved = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(saved[1]) or rate
local at = tonumber(saved[2]) or now
local perMs = rate / 60000
tokens = math.min(rate, tokens + math.max(0, now - at) * perMs)
local ok = 0
if tokens >= 1 then
  tokens = tokens - 1
  ok = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], 60000 + math.ceil(1 / perMs))
if ok == 1 then return {1, 0} end
return {0, math.max(1, math.ceil((1 - tokens) / perMs / 1000))}
`);

export class StoreTokenBucket {
  constructor(
    private readonly client: StoreClient,
    /** The bucket's key (store prefix + node id). */
    private readonly key: string,
    private readonly perMinute: number,
  ) {}

  /**
   * Requests not yet authenticated are not refused early on the shared bucket (that would cost a
   * store round trip for anyone who can reach the URL); they are counted once authenticated.
   */
  peek(): TakeResult {
    return { ok: true };
  }

  /** Takes one token; rejects with StoreUnavailableError when the store cannot be reached. */
  async take(): Promise<TakeResult> {
    if (this.perMinute <= 0) return { ok: true };
    const reply = await TAKE.run(this.client, [this.key], [this.perMinute]);
    if (!Array.isArray(reply) || reply.length !== 2) throw new Error(`rate limit: unexpected reply from the store: ${String(reply)}`);
    const [ok, seconds] = reply as [unknown, unknown];
    return Number(ok) === 1 ? { ok: true } : { ok: false, retryAfterSeconds: Number(seconds) };
  }
}
