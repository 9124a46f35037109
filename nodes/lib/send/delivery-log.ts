// What callback out remembers about finished attempts, for the deliveries sidebar: the receiver's
// health, how many callbacks were delivered and given up in the last hour, and the latest
// delivered ones. Every update is O(1) and does no JSON work: a reply is kept as it came and cut to
// a preview only when the sidebar asks.
import { Ring } from "../shared/ring";
import { HourCounter, type Now } from "../shared/hour-counter";

export { HourCounter, type Now } from "../shared/hour-counter";
import type { AttemptRecord, DeliveredView, Health } from "../shared/views";
import { replyText } from "../shared/attempts";

/** What one attempt ended with, as far as health is concerned. */
export interface AttemptEnd {
  ok: boolean;
  statusCode?: number | undefined;
  error?: string | undefined;
}

export interface Delivered {
  /** The outbox entry's id (unique per queued callback). */
  id: string;
  executionId: string;
  at: number;
  statusCode?: number | undefined;
  attempts: number;
  /** The exact body sent, for resend. */
  body: string;
  url?: string | undefined;
  topic?: string | undefined;
  /** The receiver's reply as deliver read it (JSON value or text). */
  reply: unknown;
  /** The latest attempts, the delivering one last (bounded). */
  history?: AttemptRecord[] | undefined;
}

export const REPLY_PREVIEW_CHARS = 200;
/** The reply cut to its first 200 characters (JSON text for a parsed JSON reply). */
export function replyPreview(reply: unknown): string {
  return replyText(reply, REPLY_PREVIEW_CHARS);
}

export class DeliveryLog {
  private current: Health = { state: "unknown" };
  private readonly deliveredCount: HourCounter;
  private readonly gaveUpCount: HourCounter;
  /** Failed attempts (each one, retried or not), for the chart. */
  private readonly failedCount: HourCounter;
  private readonly latest: Ring<Delivered>;

  constructor(
    private readonly now: Now = Date.now,
    keepDelivered = 100,
  ) {
    this.deliveredCount = new HourCounter(now);
    this.gaveUpCount = new HourCounter(now);
    this.failedCount = new HourCounter(now);
    this.latest = new Ring<Delivered>(keepDelivered);
  }

  /** Every attempt's end: a success makes the receiver up; a failure starts (or continues) a failing streak. */
  attempted(end: AttemptEnd): void {
    if (end.ok) {
      if (this.current.state !== "up") this.current = { state: "up" };
      return;
    }
    this.failedCount.add();
    const since = this.current.state === "failing" ? this.current.since : this.now();
    const health: Health = { state: "failing" };
    if (since !== undefined) health.since = since;
    if (end.statusCode !== undefined) health.lastStatus = end.statusCode;
    if (end.error !== undefined) health.lastError = end.error;
    this.current = health;
  }

  delivered(record: Delivered): void {
    this.deliveredCount.add();
    this.latest.push(record);
  }

  gaveUp(): void {
    this.gaveUpCount.add();
  }

  health(): Health {
    return { ...this.current };
  }

  counts(): { deliveredLastHour: number; gaveUpLastHour: number } {
    return { deliveredLastHour: this.deliveredCount.total(), gaveUpLastHour: this.gaveUpCount.total() };
  }

  /** Per minute of the last hour, oldest first: callbacks delivered and attempts failed. */
  chart(): { delivered: number[]; failed: number[] } {
    return { delivered: this.deliveredCount.perMinute(), failed: this.failedCount.perMinute() };
  }

  /** The latest delivered, newest first, with the reply cut to a preview. */
  deliveredList(): DeliveredView[] {
    return this.latest.newestFirst().map((d) => {
      const view: DeliveredView = { id: d.id, executionId: d.executionId, at: d.at, attempts: d.attempts, reply: replyPreview(d.reply) };
      if (d.statusCode !== undefined) view.statusCode = d.statusCode;
      return view;
    });
  }

  /** The delivered record kept under outbox entry id `id`. */
  findById(id: string): Delivered | undefined {
    return this.latest.newestFirst().find((d) => d.id === id);
  }

  /** Delivered records (with their bodies) whose execution_id is one of `executionIds`. */
  findDelivered(executionIds: ReadonlySet<string>): Delivered[] {
    return this.latest.newestFirst().filter((d) => executionIds.has(d.executionId));
  }
}
