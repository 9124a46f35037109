// What the deliveries sidebar reads and does on a shared outbox in the store: the first waiting
// entries by due time, the gave-up records (kept in the store, bounded like the file side's: the
// latest `maxGaveUp` no older than `maxGaveUpAgeMs`), and the actions on them. Every instance sees
// and acts on the same queue; each call reads a bounded number of entries (see the scripts).
import type { StoreClient } from "../store/connection";
import type { Selection, WaitingView } from "../shared/deliveries-api";
import { CANCEL, GIVE_UP, LIST_GAVE_UP, LIST_WAITING, RESEND_GAVE_UP, RETRY_NOW } from "./store-admin-scripts";
import type { CallbackDetail, GaveUpRecord, GaveUpView } from "../shared/views";
import { readAttempts } from "../shared/attempts";
import { readEntryJson } from "./records";

/** The store keys of one queue (prefix + "outbox:" + node id). */
export interface QueueKeys {
  entries: string;
  due: string;
  lease: string;
  gaveUp: string;
  gaveUpView: string;
  gaveUpAt: string;
  /** hash id -> the due time a "retry now" moved it from, until an instance takes it (then that one restores it on failure). */
  manual: string;
  /** Each receiver's pause and pace, shared by the instances (store-receiver-health.ts). */
  receivers: string;
}

export function queueKeys(queueKey: string): QueueKeys {
  return {
    entries: `${queueKey}:entries`,
    due: `${queueKey}:due`,
    lease: `${queueKey}:lease`,
    gaveUp: `${queueKey}:gaveup`,
    gaveUpView: `${queueKey}:gaveup-view`,
    gaveUpAt: `${queueKey}:gaveup-at`,
    manual: `${queueKey}:manual`,
    receivers: `${queueKey}:receivers`,
  };
}

export interface AdminOptions {
  /** Waiting entries an action looks at, the first due first (default 1,000). */
  actionScan?: number;
  maxGaveUp?: number;
  maxGaveUpAgeMs?: number;
  now?: () => number;
}

export const ACTION_SCAN = 1000;
const HOUR_MS = 3_600_000;

function selectionArgs(selection: Selection): string[] {
  return "all" in selection ? ["all"] : ["ids", ...selection.executionIds];
}

function strings(reply: unknown): string[] {
  return Array.isArray(reply) ? reply.filter((item): item is string => typeof item === "string") : [];
}

/** Views the scripts encoded; anything that is not an object with an id is skipped. */
function parsed<T>(reply: unknown): T[] {
  const out: T[] = [];
  for (const json of strings(reply)) {
    const value: unknown = JSON.parse(json);
    if (value && typeof value === "object" && typeof (value as { id?: unknown }).id === "string") out.push(value as T);
  }
  return out;
}

export class StoreAdmin {
  readonly keys: QueueKeys;
  private readonly actionScan: number;
  private readonly maxGaveUp: number;
  private readonly maxGaveUpAgeMs: number;
  private readonly now: () => number;

  constructor(
    private readonly client: StoreClient,
    queueKey: string,
    options: AdminOptions = {},
  ) {
    this.keys = queueKeys(queueKey);
    this.actionScan = options.actionScan ?? ACTION_SCAN;
    this.maxGaveUp = options.maxGaveUp ?? 1000;
    this.maxGaveUpAgeMs = options.maxGaveUpAgeMs ?? 7 * 24 * HOUR_MS;
    this.now = options.now ?? Date.now;
  }

  /** The first `max` entries by due time; `pending` and `held` count the whole queue. */
  async waiting(max: number): Promise<{ pending: number; held: number; items: WaitingView[] }> {
    const { entries, due, lease } = this.keys;
    const reply = await LIST_WAITING.run(this.client, [entries, due, lease], [this.now(), max]);
    const [pending, held, views] = Array.isArray(reply) ? (reply as unknown[]) : [];
    return { pending: Number(pending ?? 0), held: Number(held ?? 0), items: parsed<WaitingView>(views) };
  }

  /** Makes the selected waiting entries (not in flight) due now; their execution_ids. */
  async retryNow(selection: Selection): Promise<string[]> {
    const { entries, due, lease, manual } = this.keys;
    const args = [this.now(), this.actionScan, ...selectionArgs(selection)];
    return strings(await RETRY_NOW.run(this.client, [entries, due, lease, manual], args));
  }

  /** Moves the selected waiting entries (not in flight) to gave up as "cancelled"; their gave-up records, body and all. */
  async cancel(executionIds: readonly string[]): Promise<GaveUpRecord[]> {
    const { entries, due, lease, gaveUp, gaveUpView, gaveUpAt } = this.keys;
    const now = this.now();
    const args = [now, this.actionScan, now - this.maxGaveUpAgeMs, this.maxGaveUp, "ids", ...executionIds];
    return parsed<GaveUpRecord>(await CANCEL.run(this.client, [entries, due, lease, gaveUp, gaveUpView, gaveUpAt], args));
  }

  /** A held entry out of the queue and into gave up, at once; false when `holder` lost its lease. */
  async giveUp(id: string, holder: string, record: GaveUpRecord): Promise<boolean> {
    const { entries, due, lease, gaveUp, gaveUpView, gaveUpAt } = this.keys;
    const { executionId, attempts, at, why, statusCode } = record;
    const view = JSON.stringify({ id: record.id, executionId, attempts, at, why, statusCode });
    const args = [id, holder, JSON.stringify(record), view, at, this.now() - this.maxGaveUpAgeMs, this.maxGaveUp];
    return Number(await GIVE_UP.run(this.client, [entries, due, lease, gaveUp, gaveUpView, gaveUpAt], args)) === 1;
  }

  /** Gave-up records, newest first, and how many were given up in the last hour. */
  async gaveUpList(): Promise<{ lastHour: number; items: GaveUpView[] }> {
    const now = this.now();
    const reply = await LIST_GAVE_UP.run(
      this.client,
      [this.keys.gaveUp, this.keys.gaveUpView, this.keys.gaveUpAt],
      [now - this.maxGaveUpAgeMs, this.maxGaveUp, now - HOUR_MS],
    );
    const [lastHour, views] = Array.isArray(reply) ? (reply as unknown[]) : [];
    return { lastHour: Number(lastHour ?? 0), items: parsed<GaveUpView>(views) };
  }

  /** A waiting or gave-up entry opened in the sidebar: its body and kept attempts; undefined when the store has neither. */
  async detail(id: string): Promise<CallbackDetail | undefined> {
    const waiting = await this.client.sendCommand(["HGET", this.keys.entries, id]);
    const entry = typeof waiting === "string" ? readEntryJson(waiting) : undefined;
    if (entry) return { id, executionId: entry.executionId, body: entry.body, attempts: entry.history ?? [] };
    const gaveUp = await this.client.sendCommand(["HGET", this.keys.gaveUp, id]);
    if (typeof gaveUp !== "string") return undefined;
    const record = JSON.parse(gaveUp) as Partial<GaveUpRecord>;
    if (typeof record.executionId !== "string" || typeof record.body !== "string") return undefined;
    return { id, executionId: record.executionId, body: record.body, attempts: readAttempts(record.history) ?? [] };
  }

  /** Queues the selected gave-up records again under new ids made from `idPrefix`; their execution_ids. */
  async resendGaveUp(selection: Selection, idPrefix: string): Promise<string[]> {
    const { entries, due, gaveUp, gaveUpView, gaveUpAt } = this.keys;
    const now = this.now();
    const args = [now, now - this.maxGaveUpAgeMs, this.maxGaveUp, idPrefix, ...selectionArgs(selection)];
    return strings(await RESEND_GAVE_UP.run(this.client, [entries, due, gaveUp, gaveUpView, gaveUpAt], args));
  }
}
