// What callback out remembers about finished attempts, for the deliveries sidebar: the receiver's
// health, how many callbacks were delivered and given up in the last hour, and the latest
// delivered ones. Every update is O(1) and does no JSON work: a reply is kept as it came and cut to
// a preview only when the sidebar asks.
import { Ring } from "../shared/ring";
import type { AttemptRecord, DeliveredView, Health } from "../shared/views";

/** Time, injectable so tests can move it. */
export type Now = () => number;

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
const MINUTE_MS = 60_000;
const BUCKETS = 60;

/** Events per minute for the last hour, in a ring of 60 buckets. */
export class HourCounter {
  private readonly counts = new Array<number>(BUCKETS).fill(0);
  private readonly minutes = new Array<number>(BUCKETS).fill(-1);

  constructor(private readonly now: Now = Date.now) {}

  add(): void {
    const minute = Math.floor(this.now() / MINUTE_MS);
    const slot = minute % BUCKETS;
    if (this.minutes[slot] !== minute) {
      this.minutes[slot] = minute;
      this.counts[slot] = 0;
    }
    this.counts[slot] = (this.counts[slot] ?? 0) + 1;
  }

  /** Events in the current minute and the 59 before it. */
  total(): number {
    const minute = Math.floor(this.now() / MINUTE_MS);
    let sum = 0;
    for (let slot = 0; slot < BUCKETS; slot++) {
      const at = this.minutes[slot] ?? -1;
      if (at > minute - BUCKETS && at <= minute) sum += this.counts[slot] ?? 0;
    }
    return sum;
  }
}

/** The reply cut to its first 200 characters (JSON text for a parsed JSON reply). */
export function replyPreview(reply: unknown): string {
  if (reply === undefined) return "";
  let text: string;
  if (typeof reply === "string") text = reply;
  else {
    try {
      text = JSON.stringify(reply) ?? String(reply);
    } catch {
      text = String(reply);
    }
  }
  return text.length > REPLY_PREVIEW_CHARS ? text.slice(0, REPLY_PREVIEW_CHARS) : text;
}

export class DeliveryLog {
  private current: Health = { state: "unknown" };
  private readonly deliveredCount: HourCounter;
  private readonly gaveUpCount: HourCounter;
  private readonly latest: Ring<Delivered>;

  constructor(
    private readonly now: Now = Date.now,
    keepDelivered = 100,
  ) {
    this.deliveredCount = new HourCounter(now);
    this.gaveUpCount = new HourCounter(now);
    this.latest = new Ring<Delivered>(keepDelivered);
  }

  /** Every attempt's end: a success makes the receiver up; a failure starts (or continues) a failing streak. */
  attempted(end: AttemptEnd): void {
    if (end.ok) {
      if (this.current.state !== "up") this.current = { state: "up" };
      return;
    }
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
