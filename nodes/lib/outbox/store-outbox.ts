// The outbox of callback out kept in the store (Redis or Valkey) instead of a file, shared by every
// instance running the same flow: the node id names the queue, each instance takes due entries
// with a lease, and an entry whose holder died is taken again once the lease has run out.
//
// Keys under `<prefix>outbox:<node id>:`
//   entries  hash  id -> the entry as JSON (body included; records.ts's entryJson)
//   due      zset  id -> when it may be taken next: its due time, or the end of its lease
//   lease    hash  id -> the token of the instance holding it
//   receivers hash origin -> its pause and pace as JSON (send/store-receiver-health.ts)
// (and the gave-up records beside them, for the deliveries sidebar: store-admin-scripts.ts)
// A holder's retry or finish counts only while it still holds the lease: an instance that lost
// its entry to a takeover (it was too slow, or cut off) cannot undo the new holder's work.
import type { OutboxEntry, RetryUpdate } from "./types";
import { entryJson, readEntryJson, withRetry } from "./records";
import type { StoreClient } from "../store/connection";
import { StoreScript } from "../store/script";
import { StoreAdmin, queueKeys } from "./store-admin";
import type { GaveUpRecord } from "../shared/views";

// KEYS entries, due; ARGV id, entry JSON, dueAt, max pending (0: no limit), wake channel. 1 added, 0 full.
// The wake-up is published with pcall: a user whose ACL has no channels still adds (others then poll).
const ADD = new StoreScript(`
if tonumber(ARGV[4]) > 0 and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[4]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
redis.pcall('PUBLISH', ARGV[5], '')
return 1
`);

// KEYS entries, due, lease, manual; ARGV now, lease ms, how many at most, holder token. The time the
// earliest entry left is due ('' when none), then each entry taken followed by the due time a
// "retry now" moved it from ('' when none; the taker restores it if the attempt fails) and the time
// it was due (to give it back untouched).
const TAKE = new StoreScript(`
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[3]))
local taken = {}
for i = 1, #ids, 2 do
  local id = ids[i]
  local entry = redis.call('HGET', KEYS[1], id)
  if entry then
    redis.call('ZADD', KEYS[2], tonumber(ARGV[1]) + tonumber(ARGV[2]), id)
    redis.call('HSET', KEYS[3], id, ARGV[4])
    taken[#taken + 1] = entry
    taken[#taken + 1] = redis.call('HGET', KEYS[4], id) or ''
    taken[#taken + 1] = ids[i + 1]
    redis.call('HDEL', KEYS[4], id)
  else
    redis.call('ZREM', KEYS[2], id)
    redis.call('HDEL', KEYS[4], id)
  end
end
local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
table.insert(taken, 1, first[2] or '')
return taken
`);

// KEYS entries, due, lease; ARGV id, token, entry JSON, dueAt. 1 when this holder still had it.
const RETRY = new StoreScript(`
if redis.call('HGET', KEYS[3], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
return 1
`);

// KEYS entries, due, lease; ARGV id, token. 1 when this holder still had it.
const REMOVE = new StoreScript(`
if redis.call('HGET', KEYS[3], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
return 1
`);

// KEYS due, lease; ARGV token, wake channel, then (id, dueAt) pairs. Gives entries back before their lease ends.
const RELEASE = new StoreScript(`
for i = 3, #ARGV, 2 do
  if redis.call('HGET', KEYS[2], ARGV[i]) == ARGV[1] then
    redis.call('ZADD', KEYS[1], ARGV[i + 1], ARGV[i])
    redis.call('HDEL', KEYS[2], ARGV[i])
  end
end
redis.pcall('PUBLISH', ARGV[2], '')
return 1
`);

// KEYS due, lease, manual; ARGV token, then (id, dueAt, manual from or '') triples. Gives entries back
// untried, to be taken again at dueAt (their receiver is paused or paced); a "retry now" stays one.
const GIVE_BACK = new StoreScript(`
for i = 2, #ARGV, 3 do
  if redis.call('HGET', KEYS[2], ARGV[i]) == ARGV[1] then
    redis.call('ZADD', KEYS[1], ARGV[i + 1], ARGV[i])
    redis.call('HDEL', KEYS[2], ARGV[i])
    if ARGV[i + 2] ~= '' then redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 2]) end
  end
end
return 1
`);

export interface StoreOutboxOptions {
  /** Store prefix + node id: the queue's name. */
  queueKey: string;
  /** How long a taken entry stays with its holder before another instance may take it. */
  leaseMs: number;
  /** Who holds what this outbox takes (one per node instance). */
  holder: string;
  now?: () => number;
}

export class StoreOutbox {
  private readonly keys: { entries: string; due: string; lease: string; manual: string; receivers: string };
  /** The deliveries sidebar's view of this queue and its gave-up records (shared by all instances). */
  readonly admin: StoreAdmin;
  /** Pub/sub channel (not a key) on which adds and releases say that entries may be due. */
  private readonly channel: string;
  private next: number | undefined;
  private readonly now: () => number;
  /** Entries this instance holds now, with their due time (to give them back on close). */
  private readonly held = new Map<string, OutboxEntry>();
  /** Held entries taken for a "retry now": the due time to go back to if the attempt fails. */
  private readonly manual = new Map<string, number>();
  /** Held entries' due time in the queue when taken (it may be later than their own: a receiver held them back). */
  private readonly takenDue = new Map<string, number>();

  constructor(
    private readonly client: StoreClient,
    private readonly options: StoreOutboxOptions,
  ) {
    this.keys = queueKeys(options.queueKey);
    this.channel = `${options.queueKey}:wake`;
    this.now = options.now ?? Date.now;
    this.admin = new StoreAdmin(client, options.queueKey, { now: this.now });
  }

  /** The hash of each receiver's pause and pace for this queue. */
  get receiversKey(): string {
    return this.keys.receivers;
  }

  /** When the earliest entry left after the last take is due (or its lease ends); undefined when none is. */
  get nextDueAt(): number | undefined {
    return this.next;
  }

  /**
   * Calls `listener` whenever any instance adds or gives back entries; resolves to the function
   * that stops it. Rejects when the store cannot listen (down, or an ACL without channels).
   */
  async onAdded(listener: () => void): Promise<() => Promise<void>> {
    if (!this.client.subscribe) throw new Error("this store client cannot listen");
    return this.client.subscribe(this.channel, listener);
  }

  /** Entries held by this instance now. */
  get heldCount(): number {
    return this.held.size;
  }

  /** The held entry `id` (undefined when this instance does not hold it). */
  peek(id: string): Readonly<OutboxEntry> | undefined {
    return this.held.get(id);
  }

  /**
   * Stores a new entry; resolves once the store has it (the msg may be acknowledged then),
   * false when `maxPending` entries are pending already (nothing stored).
   */
  async add(entry: OutboxEntry, maxPending = 0): Promise<boolean> {
    const { entries, due } = this.keys;
    const reply = await ADD.run(this.client, [entries, due], [entry.id, entryJson(entry), entry.dueAt, maxPending, this.channel]);
    return Number(reply) === 1;
  }

  /** Pending entries across all instances (held ones included). */
  async size(): Promise<number> {
    return Number(await this.client.sendCommand(["HLEN", this.keys.entries]));
  }

  /** Takes up to `max` due entries for this instance, each with a lease. */
  async take(max: number): Promise<OutboxEntry[]> {
    if (max <= 0) return [];
    const { entries, due, lease, manual } = this.keys;
    const args = [this.now(), this.options.leaseMs, max, this.options.holder];
    const reply = await TAKE.run(this.client, [entries, due, lease, manual], args);
    const [next, ...found] = Array.isArray(reply) ? (reply as unknown[]) : [];
    this.next = typeof next === "string" && next !== "" ? Number(next) : undefined;
    const taken: OutboxEntry[] = [];
    for (let i = 0; i < found.length; i += 3) {
      const json = found[i];
      const entry = typeof json === "string" ? readEntryJson(json) : undefined;
      if (!entry) continue;
      this.held.set(entry.id, entry);
      this.takenDue.set(entry.id, Number(found[i + 2]));
      const from = Number(found[i + 1]);
      if (found[i + 1] !== "" && Number.isFinite(from)) this.manual.set(entry.id, from);
      taken.push(entry);
    }
    return taken;
  }

  /** When a held entry was due in the queue as it was taken. */
  takenAt(id: string): number | undefined {
    return this.takenDue.get(id);
  }

  /** The due time a held entry had before a "retry now" (undefined: a scheduled attempt). */
  manualFrom(id: string): number | undefined {
    return this.manual.get(id);
  }

  /** Puts a held entry back for another attempt at `update.dueAt`; false when its lease was lost. */
  async reschedule(id: string, update: RetryUpdate): Promise<boolean> {
    const entry = this.held.get(id);
    if (!entry) return false;
    this.held.delete(id);
    this.manual.delete(id);
    this.takenDue.delete(id);
    const next = withRetry(entry, update);
    const { entries, due, lease } = this.keys;
    const reply = await RETRY.run(this.client, [entries, due, lease], [id, this.options.holder, entryJson(next), next.dueAt]);
    return Number(reply) === 1;
  }

  /** Removes a held entry for good (delivered or given up); false when its lease was lost. */
  async remove(id: string): Promise<boolean> {
    this.manual.delete(id);
    this.takenDue.delete(id);
    if (!this.held.delete(id)) return false;
    const { entries, due, lease } = this.keys;
    return Number(await REMOVE.run(this.client, [entries, due, lease], [id, this.options.holder])) === 1;
  }

  /**
   * Gives up a held entry: out of the queue and into the gave-up records (kept for resend) in one
   * step, so a crash leaves it in one of the two; false when its lease was lost.
   */
  async giveUp(id: string, record: GaveUpRecord): Promise<boolean> {
    this.manual.delete(id);
    this.takenDue.delete(id);
    if (!this.held.delete(id)) return false;
    return this.admin.giveUp(id, this.options.holder, record);
  }

  /** Gives back every held entry (at its own due time), so other instances need not wait for the lease. */
  async releaseAll(): Promise<void> {
    const pairs: Array<string | number> = [];
    for (const entry of this.held.values()) pairs.push(entry.id, entry.dueAt);
    this.held.clear();
    this.manual.clear();
    this.takenDue.clear();
    if (pairs.length === 0) return;
    await RELEASE.run(this.client, [this.keys.due, this.keys.lease], [this.options.holder, this.channel, ...pairs]);
  }

  /**
   * Gives back held entries untried, each to be taken again at its `dueAt` (its receiver lets no
   * attempt through before then); nobody is woken for them.
   */
  async giveBack(entries: ReadonlyArray<{ id: string; dueAt: number }>): Promise<void> {
    const triples: Array<string | number> = [];
    for (const { id, dueAt } of entries) {
      if (!this.held.delete(id)) continue;
      triples.push(id, dueAt, this.manual.get(id) ?? "");
      this.manual.delete(id);
      this.takenDue.delete(id);
    }
    if (triples.length === 0) return;
    const { due, lease, manual } = this.keys;
    await GIVE_BACK.run(this.client, [due, lease, manual], [this.options.holder, ...triples]);
  }

  /** Forgets what this instance holds without telling the store (its leases run out by themselves). */
  forgetHeld(): void {
    this.held.clear();
    this.manual.clear();
    this.takenDue.clear();
  }
}
