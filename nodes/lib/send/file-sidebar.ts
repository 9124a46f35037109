// callback out's side of the deliveries sidebar: what it remembers (delivery-log, gave-up-store)
// and the actions on its callbacks (retry now, cancel, resend), over the node's outbox and
// delivery queue. Recording an outcome is O(1); the lists are built only when the sidebar asks.
import { DeliveryLog, type AttemptEnd } from "./delivery-log";
import { GaveUpStore } from "./gave-up-store";
import type { AttemptRecord, CallbackDetail, GaveUpRecord, Health } from "../shared/views";
import { historyWith } from "./attempt-history";
import type { MessageText } from "./request-headers";
import type { OutboxEntry, OutboxStore, QueuedEntry } from "../outbox/types";
import type { DeliveryResult } from "./deliver";
import type { QueuedCallback } from "./delivery-queue";
import { describeResult } from "./output-msg";
import type { ActionResult, OutDeliveries, OutView, Selection, WaitingView } from "../shared/deliveries-api";
import { randomHex } from "../shared/random-hex";

/** The outbox operations the sidebar needs (every outbox store offers them). */
export type OutboxPort = Pick<OutboxStore, "size" | "entries" | "peek" | "body" | "add" | "remove" | "reschedule">;

/** The delivery queue operations the sidebar needs. */
export interface QueuePort {
  readonly inFlight: number;
  schedule(callback: QueuedCallback): void;
  /** Forgets a waiting callback; false when it is in flight or not queued. */
  remove(id: string): boolean;
  isRunning(id: string): boolean;
}

/** Waiting callbacks listed at most (the first due); the count says how many there are in all. */
export const WAITING_LISTED = 100;

export function newEntryId(now: number): string {
  return `${now.toString(36)}-${randomHex(6)}`;
}

function selected(selection: Selection): ReadonlySet<string> | undefined {
  return "all" in selection ? undefined : new Set(selection.executionIds);
}

function notFound(selection: Selection, found: Iterable<string>): string[] {
  if ("all" in selection) return [];
  const seen = new Set(found);
  return selection.executionIds.filter((id) => !seen.has(id));
}

/** agent_loop_name and status of a body, for the waiting list (bodies are parsed only here). */
function describeBody(body: string): { agentLoopName?: string; status?: string } {
  try {
    const value = JSON.parse(body) as { agent_loop_name?: unknown; status?: unknown };
    const out: { agentLoopName?: string; status?: string } = {};
    if (typeof value.agent_loop_name === "string") out.agentLoopName = value.agent_loop_name;
    if (typeof value.status === "string") out.status = value.status;
    return out;
  } catch {
    return {};
  }
}

export class FileSidebar implements OutDeliveries {
  readonly kind = "out";
  readonly log: DeliveryLog;
  /** Gave-up moves on their way (store, then outbox), waited for before the outbox closes. */
  private readonly moving = new Set<Promise<void>>();
  /** Told of each callback cancelled, once it is in the gave-up file, to leave on the node's gave-up output. */
  /** The receiver's pause, shown with its health. */
  pausedOf: (() => { since: number; nextTest: number } | undefined) | undefined;
  onCancelled: ((entry: Readonly<QueuedEntry>, body: string | undefined) => void) | undefined;

  constructor(
    private readonly store: GaveUpStore,
    private readonly outbox: () => OutboxPort | undefined,
    private readonly queue: () => QueuePort | undefined,
    private readonly now: () => number = Date.now,
    /** A redeploy hands over the log of the node it replaces, so the sidebar keeps its history. */
    log?: DeliveryLog,
    /** The node's catalog: a gave-up cause in the same words as the gave-up msg's. */
    private readonly t?: MessageText,
  ) {
    this.log = log ?? new DeliveryLog(now);
  }

  /** A callback delivered: noted (health, counts, the delivered list); the file backend removes it from the outbox. */
  delivered(entry: Readonly<QueuedEntry>, body: string | undefined, result: DeliveryResult, attempts: number): void {
    this.attempted({ ok: true, statusCode: result.statusCode, error: result.error });
    this.log.delivered({
      id: entry.id,
      executionId: entry.executionId,
      at: this.now(),
      statusCode: result.statusCode,
      attempts,
      body: body ?? "",
      url: entry.url,
      topic: entry.topic,
      reply: result.payload,
      history: historyWith(entry.history, result, this.now),
    });
  }

  /** A callback given up after its attempts: noted, kept on disk first, then taken out of the outbox (see gaveUp). */
  failed(entry: Readonly<QueuedEntry>, body: string | undefined, result: DeliveryResult, attempts: number): Promise<void> {
    this.attempted({ ok: false, statusCode: result.statusCode, error: result.error });
    const history = historyWith(entry.history, result, this.now);
    return this.gaveUp(entry, body, describeResult(result, this.t), attempts, result.statusCode, history);
  }

  /** Every attempt's end, for the receiver's health. */
  attempted(end: AttemptEnd): void {
    this.log.attempted(end);
  }

  /**
   * A callback given up (or cancelled): kept on disk first, then taken out of the outbox, so that a
   * crash in between leaves it pending (one more attempt) rather than lost.
   */
  gaveUp(
    entry: Readonly<QueuedEntry>,
    body: string | undefined,
    why: string,
    attempts: number,
    statusCode?: number,
    history: AttemptRecord[] | undefined = entry.history,
  ): Promise<void> {
    const move = this.moveToGaveUp(entry, body, why, attempts, statusCode, history);
    this.moving.add(move);
    const forget = (): void => void this.moving.delete(move);
    move.then(forget, forget);
    return move;
  }

  /** Resolves once every gave-up move started so far is done (or failed). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.moving]);
  }

  private async moveToGaveUp(
    entry: Readonly<QueuedEntry>,
    body: string | undefined,
    why: string,
    attempts: number,
    statusCode: number | undefined,
    history: AttemptRecord[] | undefined,
  ): Promise<void> {
    const outbox = this.outbox();
    const text = body ?? (await outbox?.body(entry.id));
    if (text !== undefined) {
      const record: GaveUpRecord = { id: entry.id, executionId: entry.executionId, body: text, attempts, at: this.now(), why };
      if (entry.url !== undefined) record.url = entry.url;
      if (entry.topic !== undefined) record.topic = entry.topic;
      if (statusCode !== undefined) record.statusCode = statusCode;
      if (history !== undefined) record.history = history;
      await this.store.add(record);
    }
    // A cancel is someone's choice, not a failure: not counted with those given up.
    if (why !== "cancelled") this.log.gaveUp();
    await outbox?.remove(entry.id);
  }

  async view(): Promise<OutView> {
    const outbox = this.outbox();
    const queue = this.queue();
    const entries = outbox ? outbox.entries().sort((a, b) => a.dueAt - b.dueAt) : [];
    const waiting: WaitingView[] = [];
    for (const entry of entries.slice(0, WAITING_LISTED)) {
      const body = await outbox?.body(entry.id).catch(() => undefined);
      const view: WaitingView = {
        id: entry.id,
        executionId: entry.executionId,
        attempts: entry.attempts,
        nextAttempt: entry.dueAt,
        inFlight: queue?.isRunning(entry.id) ?? false,
        ...(body !== undefined ? describeBody(body) : {}),
      };
      if (entry.lastStatus !== undefined) view.lastStatus = entry.lastStatus;
      if (entry.lastError !== undefined) view.lastError = entry.lastError;
      waiting.push(view);
    }
    const inFlight = queue?.inFlight ?? 0;
    return {
      kind: "out",
      health: withPause(this.log.health(), this.pausedOf?.()),
      counts: { queued: Math.max(0, entries.length - inFlight), inFlight, ...this.log.counts() },
      waiting,
      waitingTotal: entries.length,
      gaveUp: this.store.list(),
      delivered: this.log.deliveredList(),
      chart: this.log.chart(),
    };
  }

  /** A waiting, gave-up or delivered callback opened: its exact body and its kept attempts. */
  async detail(id: string): Promise<CallbackDetail | undefined> {
    // Gave up and delivered first: a finished one is noted there before it leaves the outbox.
    const kept = this.store.get(id) ?? this.log.findById(id);
    if (kept) return { id, executionId: kept.executionId, body: kept.body, attempts: kept.history ?? [] };
    const outbox = this.outbox();
    const waiting = outbox?.peek(id);
    if (!waiting) return undefined;
    const body = await outbox?.body(id).catch(() => "");
    return { id, executionId: waiting.executionId, body: body ?? "", attempts: waiting.history ?? [] };
  }

  /** Waiting callbacks (not in flight) matching the selection. */
  private waitingMatching(selection: Selection): QueuedEntry[] {
    const ids = selected(selection);
    const queue = this.queue();
    return (this.outbox()?.entries() ?? []).filter((e) => (!ids || ids.has(e.executionId)) && !queue?.isRunning(e.id));
  }

  /** A manual attempt now for each: one that fails goes back to its attempts and next attempt (the outbox keeps them meanwhile). */
  retry(selection: Selection): Promise<ActionResult> {
    const queue = this.queue();
    const entries = this.waitingMatching(selection);
    const now = this.now();
    for (const entry of entries) {
      queue?.schedule({ id: entry.id, dueAt: now, attempts: entry.attempts, restore: { attempts: entry.attempts, dueAt: entry.dueAt } });
    }
    return Promise.resolve({
      count: entries.length,
      notFound: notFound(
        selection,
        entries.map((e) => e.executionId),
      ),
    });
  }

  async cancel(selection: Selection): Promise<ActionResult> {
    const queue = this.queue();
    const done: string[] = [];
    for (const entry of this.waitingMatching(selection)) {
      if (!queue?.remove(entry.id)) continue;
      // Read here too (not only in the move): the output msg carries the callback as it was queued.
      const body = await this.outbox()
        ?.body(entry.id)
        .catch(() => undefined);
      await this.gaveUp(entry, body, "cancelled", entry.attempts, entry.lastStatus);
      this.onCancelled?.(entry, body);
      done.push(entry.executionId);
    }
    return { count: done.length, notFound: notFound(selection, done) };
  }

  async resend(selection: Selection): Promise<ActionResult> {
    const ids = selected(selection);
    const gaveUp = this.store.find(ids);
    // A delivered one whose body could not be read back has nothing to resend.
    const delivered = ids ? this.log.findDelivered(ids).filter((d) => d.body !== "") : [];
    const outbox = this.outbox();
    if (!outbox) throw new Error("the outbox is not open");
    const found: string[] = [];
    for (const source of [...gaveUp, ...delivered]) {
      const now = this.now();
      const entry: OutboxEntry = {
        id: newEntryId(now),
        executionId: source.executionId,
        body: source.body,
        attempts: 0,
        dueAt: now,
        createdAt: now,
      };
      if (source.url !== undefined) entry.url = source.url;
      if (source.topic !== undefined) entry.topic = source.topic;
      // Durable in the outbox before it leaves the gave-up list: a crash in between keeps both, never neither.
      await outbox.add(entry);
      this.queue()?.schedule({ id: entry.id, dueAt: entry.dueAt, attempts: 0 });
      found.push(source.executionId);
    }
    await this.store.remove(gaveUp.map((r) => r.id));
    return { count: found.length, notFound: notFound(selection, found) };
  }

  close(): Promise<void> {
    return this.store.close();
  }
}

/** The health with the receiver's pause, when it is paused. */
export function withPause(health: Health, paused: { since: number; nextTest: number } | undefined): Health {
  return paused ? { ...health, paused: { since: paused.since, nextTest: paused.nextTest } } : health;
}
