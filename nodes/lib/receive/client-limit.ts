// Failed requests limited per client address, so that strangers hammering the endpoint are slowed
// down without spending the budget of the authenticated sender. The table is bounded: the client
// seen least recently is forgotten first.
import type { IncomingMessage } from "node:http";
import { TokenBucket, type TakeResult } from "./rate-limit";

export const CLIENT_TABLE_SIZE = 10_000;

export class ClientLimiter {
  // Map iteration follows insertion order; a client is re-inserted on each use, so the first key is the least recent.
  private readonly clients = new Map<string, TokenBucket>();

  constructor(
    private readonly perMinute: number,
    private readonly capacity: number = CLIENT_TABLE_SIZE,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.clients.size;
  }

  /** Whether `client` may still fail (nothing spent). */
  check(client: string): TakeResult {
    if (this.perMinute <= 0) return { ok: true };
    return this.bucket(client).peek();
  }

  /** Counts a failure of `client`; not ok when it is over its limit. */
  fail(client: string): TakeResult {
    if (this.perMinute <= 0) return { ok: true };
    return this.bucket(client).take();
  }

  private bucket(client: string): TokenBucket {
    let bucket = this.clients.get(client);
    if (bucket) this.clients.delete(client);
    else bucket = new TokenBucket(this.perMinute, this.now);
    this.clients.set(client, bucket);
    if (this.clients.size > this.capacity) {
      const oldest = this.clients.keys().next();
      if (!oldest.done) this.clients.delete(oldest.value);
    }
    return bucket;
  }
}

/**
 * The client's address: the socket's peer, or with `trustProxy` the last X-Forwarded-For entry
 * (the one the proxy in front of Node-RED added; the ones before it are whatever the client sent).
 */
export function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const header = req.headers["x-forwarded-for"];
    const joined = Array.isArray(header) ? header.join(",") : (header ?? "");
    const last = joined.split(",").pop()?.trim() ?? "";
    if (last !== "" && last.length <= 64) return last;
  }
  const address = req.socket?.remoteAddress ?? "";
  return address.startsWith("::ffff:") ? address.slice("::ffff:".length) : address;
}
