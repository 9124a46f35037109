// callback out's side of the deliveries sidebar when its outbox is the shared queue in a callback
// store: the waiting list, gave-up records and the actions come from the store (the same for every
// instance, and durable there); the receiver's health and the delivered list are this instance's
// own, in memory, as with the file outbox.
import type { StoreOutbox } from "../outbox/store-outbox";
import type { CallbackDetail, GaveUpRecord } from "../shared/views";
import type { ActionResult, OutDeliveries, OutView, Selection } from "../shared/deliveries-api";
import { DeliveryLog, type AttemptEnd, type Delivered } from "./delivery-log";
import { WAITING_LISTED, newEntryId, withPause } from "./file-sidebar";

function notFound(selection: Selection, found: readonly string[]): string[] {
  if ("all" in selection) return [];
  const seen = new Set(found);
  return selection.executionIds.filter((id) => !seen.has(id));
}

export class StoreSidebar implements OutDeliveries {
  readonly kind = "out";
  readonly log: DeliveryLog;
  /** Told of each callback cancelled here, to leave on the node's gave-up output. */
  onCancelled: ((record: GaveUpRecord) => void) | undefined;
  /** The receiver's pause, shown in the health line (shared by the instances). */
  pausedOf: (() => { since: number; nextTest: number } | undefined) | undefined;

  constructor(
    private readonly outbox: StoreOutbox,
    /** Looks for due entries at once (after an action made some due). */
    private readonly wake: () => void,
    private readonly now: () => number = Date.now,
    /** A redeploy hands over the log of the node it replaces, so the sidebar keeps its history. */
    log?: DeliveryLog,
  ) {
    this.log = log ?? new DeliveryLog(now);
  }

  attempted(end: AttemptEnd): void {
    this.log.attempted(end);
  }

  delivered(record: Delivered): void {
    this.log.delivered(record);
  }

  async view(): Promise<OutView> {
    const { admin } = this.outbox;
    const [waiting, gaveUp] = await Promise.all([admin.waiting(WAITING_LISTED), admin.gaveUpList()]);
    const delivered = this.log.deliveredList();
    // One this instance delivered while the store was being read is listed as delivered only.
    const done = new Set(delivered.map((d) => d.id));
    const items = waiting.items.filter((item) => !done.has(item.id));
    const gone = waiting.items.length - items.length;
    const pending = waiting.pending - gone;
    const inFlight = Math.max(0, Math.min(waiting.held - gone, pending));
    return {
      kind: "out",
      health: withPause(this.log.health(), this.pausedOf?.()),
      counts: {
        queued: pending - inFlight,
        inFlight,
        deliveredLastHour: this.log.counts().deliveredLastHour,
        gaveUpLastHour: gaveUp.lastHour,
      },
      waiting: items,
      waitingTotal: pending,
      gaveUp: gaveUp.items,
      delivered,
      chart: this.log.chart(),
      shared: true,
    };
  }

  /** A callback opened: delivered ones are this instance's; waiting and gave-up ones the store's. */
  async detail(id: string): Promise<CallbackDetail | undefined> {
    const delivered = this.log.findById(id);
    if (delivered) return { id, executionId: delivered.executionId, body: delivered.body, attempts: delivered.history ?? [] };
    return this.outbox.admin.detail(id);
  }

  async retry(selection: Selection): Promise<ActionResult> {
    const done = await this.outbox.admin.retryNow(selection);
    if (done.length > 0) this.wake();
    return { count: done.length, notFound: notFound(selection, done) };
  }

  async cancel(selection: Selection): Promise<ActionResult> {
    // The plugin refuses {all:true} for cancel; nothing is cancelled without a choice.
    const records = "all" in selection ? [] : await this.outbox.admin.cancel(selection.executionIds);
    for (const record of records) this.onCancelled?.(record);
    const done = records.map((r) => r.executionId);
    return { count: done.length, notFound: notFound(selection, done) };
  }

  /** Gave-up records (in the store) and delivered ones (this instance's) queued again; each counts once it is stored. */
  async resend(selection: Selection): Promise<ActionResult> {
    const found = await this.outbox.admin.resendGaveUp(selection, newEntryId(this.now()));
    const delivered = "all" in selection ? [] : this.log.findDelivered(new Set(selection.executionIds)).filter((d) => d.body !== "");
    for (const source of delivered) {
      const now = this.now();
      const entry = { id: newEntryId(now), executionId: source.executionId, body: source.body, attempts: 0, dueAt: now, createdAt: now };
      await this.outbox.add({
        ...entry,
        ...(source.url !== undefined ? { url: source.url } : {}),
        ...(source.topic !== undefined ? { topic: source.topic } : {}),
      });
      found.push(source.executionId);
    }
    if (found.length > 0) this.wake();
    return { count: found.length, notFound: notFound(selection, found) };
  }
}
