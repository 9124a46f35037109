// Small JSON records in one hash of the store, each changed by compare-and-set: an instance
// computes the new record from the one it last saw, and the store takes it only if nobody changed
// the record meanwhile (else the instance computes again from the current one). The rules stay in
// one place, in TypeScript, and every instance sharing the hash applies them to the same record.
import type { StoreClient } from "./connection";
import { StoreScript } from "./script";

// KEYS hash; ARGV field, the value expected ('' absent), the new value ('' removes it).
// {1} when the field held the expected value (and now holds the new one); {0, current} when not.
const COMPARE_AND_SET = new StoreScript(`
local current = redis.call('HGET', KEYS[1], ARGV[1]) or ''
if current ~= ARGV[2] then return {0, current} end
if ARGV[3] == current then return {1} end
if ARGV[3] == '' then redis.call('HDEL', KEYS[1], ARGV[1]) else redis.call('HSET', KEYS[1], ARGV[1], ARGV[3]) end
return {1}
`);

/** Other instances changed the record this many times in a row while this one computed: give up (a store error). */
const MAX_ROUNDS = 30;

/** A change to one record: the record to store (undefined removes it) and what the caller wants back. */
export interface RecordChange<T, R> {
  next: T | undefined;
  result: R;
}

export class SharedRecords<T> {
  /** The stored text of each record as this instance last saw it ('' absent). */
  private readonly seen = new Map<string, string>();
  /** This instance's updates of each field, one after the other (else they would only collide with each other). */
  private readonly queued = new Map<string, Promise<unknown>>();

  constructor(
    private readonly client: StoreClient,
    /** The hash's full key. */
    private readonly key: string,
    /** A record from its stored text; undefined for text it cannot read (then taken as absent). */
    private readonly read: (json: string) => T | undefined,
  ) {}

  /**
   * Applies `change` to record `field` atomically for every instance. `change` may run more than
   * once (each time on a fresh copy of the current record), so it must have no other effect.
   * Even when nothing changes, the store confirms the record it was computed from.
   */
  update<R>(field: string, change: (record: T | undefined) => RecordChange<T, R>): Promise<R> {
    const before = this.queued.get(field) ?? Promise.resolve();
    // `before` never rejects (it is the previous update's settled promise).
    const run = before.then(() => this.compareAndSet(field, change));
    const settled = run.catch(() => undefined);
    this.queued.set(field, settled);
    void settled.then(() => {
      if (this.queued.get(field) === settled) this.queued.delete(field);
    });
    return run;
  }

  private async compareAndSet<R>(field: string, change: (record: T | undefined) => RecordChange<T, R>): Promise<R> {
    let expected = this.seen.get(field) ?? "";
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const { next, result } = change(this.parse(expected));
      const text = next === undefined ? "" : JSON.stringify(next);
      const reply = await COMPARE_AND_SET.run(this.client, [this.key], [field, expected, text]);
      const [ok, current] = Array.isArray(reply) ? (reply as unknown[]) : [];
      if (Number(ok) === 1) {
        this.remember(field, text);
        return result;
      }
      expected = typeof current === "string" ? current : "";
      this.remember(field, expected);
      // A short random wait: else an instance whose next change is always ready first wins every time.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 ** round)));
    }
    throw new Error(`${this.key} ${field}: changed by other instances ${MAX_ROUNDS} times in a row`);
  }

  /** The records as this instance last saw them (no store round trip). */
  known(): Map<string, T> {
    const records = new Map<string, T>();
    for (const [field, text] of this.seen) {
      const record = this.parse(text);
      if (record !== undefined) records.set(field, record);
    }
    return records;
  }

  /** Reads every record again (so that changes other instances made show here too). */
  async refresh(): Promise<void> {
    const reply = await this.client.sendCommand(["HGETALL", this.key]);
    this.seen.clear();
    for (const [field, text] of pairs(reply)) this.remember(field, text);
  }

  private remember(field: string, text: string): void {
    if (text === "") this.seen.delete(field);
    else this.seen.set(field, text);
  }

  private parse(text: string): T | undefined {
    if (text === "") return undefined;
    try {
      return this.read(text);
    } catch {
      return undefined;
    }
  }
}

/** HGETALL's reply as field/value pairs: RESP2 gives a flat array, RESP3 clients a map or an object. */
function pairs(reply: unknown): Array<[string, string]> {
  if (Array.isArray(reply)) {
    const out: Array<[string, string]> = [];
    for (let i = 0; i + 1 < reply.length; i += 2) out.push([String(reply[i]), String(reply[i + 1])]);
    return out;
  }
  if (reply instanceof Map) return [...reply].map(([k, v]) => [String(k), String(v)]);
  if (reply && typeof reply === "object") return Object.entries(reply).map(([k, v]) => [k, String(v)]);
  return [];
}
