// What callback in's status shows: a configuration problem (red, until the next deploy), the store
// being unreachable, or the counts, with a bad number's note in front. Count changes are coalesced
// so that a flood of requests does not flood the editor.
import type { NodeStatus } from "../shared/node-red-types";
import type { Translate } from "../shared/messages";
import type { RequestCounts } from "../shared/views";
import type { StoreConnection } from "../store/connection";

export interface ReceiverStatusOptions {
  t: Translate;
  /** Shows a status on the node. */
  show(status: NodeStatus): void;
  /** The request log's counts: the same numbers the sidebar shows. */
  counts(): RequestCounts;
  /** Bad numbers, shown before every status that is not a problem ("" when none). */
  numberNote: string;
  /** Called with each coalesced change (the sidebar listens). */
  changed(): void;
  warn(text: string): void;
  log(text: string): void;
  delayMs?: number;
  /** Why the store cannot be reached from the start (already logged). */
  storeDown?: string;
}

export class ReceiverStatus {
  private configProblem = false;
  /** Why the store cannot be reached now (undefined while it can). */
  private storeDown: string | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: ReceiverStatusOptions) {
    this.storeDown = options.storeDown;
  }

  /** A problem that stops the node from receiving: shown as it is and kept until the next deploy. */
  problem(fill: "red" | "grey", text: string): void {
    this.configProblem = true;
    this.options.show({ fill, shape: "ring", text });
  }

  /** The endpoint is ready: `text` says where, unless the store is down or a problem was shown. */
  listening(text: string): void {
    if (this.configProblem) return;
    if (this.storeDown !== undefined) return this.showNow();
    this.withNote({ fill: "green", shape: "dot", text });
  }

  /** The counts changed. */
  countsChanged(): void {
    if (!this.timer) this.timer = setTimeout(() => this.showNow(), this.options.delayMs ?? 250);
  }

  storeIsDown(error: string): void {
    if (this.storeDown === undefined) this.options.warn(this.options.t("warn.store-down", { error }));
    this.storeDown = error;
    this.countsChanged();
  }

  storeIsBack(): void {
    if (this.storeDown === undefined) return;
    this.storeDown = undefined;
    this.options.log(this.options.t("log.store-back"));
    this.countsChanged();
  }

  /** The store's state in the status: down says why (requests are answered 503), back shows the counts; returns the function that stops watching. */
  watch(connection: Pick<StoreConnection, "onChange" | "state" | "lastError">): () => void {
    const stop = connection.onChange((state, error) => {
      if (state === "down") this.storeIsDown(error);
      else if (state === "ready") this.storeIsBack();
    });
    if (connection.state === "down") this.storeIsDown(connection.lastError);
    return stop;
  }

  get isStoreDown(): boolean {
    return this.storeDown !== undefined;
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private showNow(): void {
    const { t, show } = this.options;
    this.timer = undefined;
    this.options.changed();
    if (this.configProblem) return;
    if (this.storeDown !== undefined) return show({ fill: "red", shape: "ring", text: t("status.store-down", { error: this.storeDown }) });
    const counts = this.options.counts();
    this.withNote({ fill: counts.refused > 0 && counts.accepted === 0 ? "yellow" : "green", shape: "dot", text: countsText(counts, t) });
  }

  private withNote(status: NodeStatus): void {
    const { numberNote, show } = this.options;
    show(numberNote ? { fill: "yellow", shape: "ring", text: `${numberNote}; ${status.text}` } : status);
  }
}

/**
 * "2 accepted, 1 duplicate, 1 refused": the sidebar's words and numbers; duplicates and refused
 * only once there are some, so that a quiet node's status stays short.
 */
export function countsText(counts: RequestCounts, t: Translate): string {
  const parts = [t("status.accepted", { count: counts.accepted })];
  if (counts.duplicate > 0)
    parts.push(counts.duplicate === 1 ? t("status.duplicate-one") : t("status.duplicates", { count: counts.duplicate }));
  if (counts.refused > 0) parts.push(t("status.refused", { count: counts.refused }));
  return parts.join(", ");
}
