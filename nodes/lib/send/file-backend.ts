// callback out's outbox in the journal file (the default): opens and replays it, keeps each msg
// durable before it is acknowledged, runs the delivery queue over it (removing a delivered entry in
// its own loop, then telling the sidebar), and keeps the gave-up file for the sidebar's resend.
import { homedir } from "node:os";
import path from "node:path";
import { Outbox, type OutboxOptions } from "../outbox/outbox";
import { journalFileName } from "../outbox/records";
import type { OpenOutbox, OutboxEntry, OutboxStore, ReplayReport } from "../outbox/types";
import type { Translate } from "../shared/messages";
import type { NodeStatus } from "../shared/node-red-types";
import type { OutDeliveries } from "../shared/deliveries-api";
import type { BackendHooks, OutboxBackend } from "./backend";
import type { DeliveryLog } from "./delivery-log";
import { DeliveryQueue } from "./delivery-queue";
import { FileSidebar } from "./file-sidebar";
import { historyWith } from "./attempt-history";
import { GaveUpStore, gaveUpFileName } from "./gave-up-store";
import { OutboxHealth } from "./outbox-health";
import { ReceiverHealth, type PauseView, type ReceiverRule } from "./receiver-health";
import type { SenderLog } from "./types";

export interface FileBackendOptions {
  /** The journal file. */
  journal: string;
  bodyMemoryBytes: number;
  concurrency: number;
  schedule: readonly number[];
  retry4xx: boolean;
  maxQueue: number;
  receiverRule: ReceiverRule;
  t: Translate;
  log: SenderLog;
  /** Shown at once when the outbox does not open. */
  onStatus(status: NodeStatus): void;
  openOutbox?: OpenOutbox<OutboxOptions> | undefined;
  /** Where gave-up callbacks are kept for the sidebar's resend; none: no sidebar. */
  gaveUpFile?: string | undefined;
  deliveryLog?: DeliveryLog | undefined;
}

/** Where node `nodeId` keeps its journal and its gave-up file, under Node-RED's user directory (default ~/.node-red). */
export function outboxFiles(userDir: string | undefined, nodeId: string): { journal: string; gaveUpFile: string } {
  const folder = path.join(userDir || path.join(homedir(), ".node-red"), "agent-callback-outbox");
  return { journal: path.join(folder, journalFileName(nodeId)), gaveUpFile: path.join(folder, gaveUpFileName(journalFileName(nodeId))) };
}

export class FileBackend implements OutboxBackend {
  readonly finishesHere = true;
  private outbox: OutboxStore | undefined;
  private queue: DeliveryQueue | undefined;
  private deliveries: FileSidebar | undefined;
  private error: string | undefined;
  private closing = false;
  private readonly health: OutboxHealth;
  /** Pause and pace per receiver, this instance's alone (in memory). */
  private readonly receivers: ReceiverHealth;
  /** Bodies of the attempts in flight, for the output msg's `callback`. */
  private readonly bodiesInFlight = new Map<string, string>();

  constructor(
    private readonly options: FileBackendOptions,
    private readonly hooks: BackendHooks,
  ) {
    this.health = new OutboxHealth(options.journal, options.t, options.log, () => hooks.onChange());
    this.receivers = new ReceiverHealth(options.receiverRule, (receiver, change) => hooks.receiverChanged(receiver, change));
  }

  get open(): boolean {
    return this.outbox !== undefined;
  }

  get openError(): string | undefined {
    return this.error;
  }

  get full(): boolean {
    return this.outbox !== undefined && this.outbox.size >= this.options.maxQueue;
  }

  get pending(): number {
    return this.outbox?.size ?? 0;
  }

  get inFlight(): number {
    return this.queue?.inFlight ?? 0;
  }

  get refusing(): string | undefined {
    return this.health.refusing;
  }

  get sidebar(): OutDeliveries | undefined {
    return this.deliveries;
  }

  paused(): PauseView | undefined {
    return this.receivers.paused();
  }

  nextDue(): { attempts: number; dueAt: number } | undefined {
    return this.queue?.nextDue();
  }

  start(): Promise<void> {
    const { journal, bodyMemoryBytes, gaveUpFile } = this.options;
    const open = this.options.openOutbox ?? ((file: string, options?: OutboxOptions) => Outbox.open(file, options));
    // The gave-up file after the outbox: its folder is trusted only once the outbox has checked it.
    const opening = open(journal, { bodyMemoryBytes }).then(async (opened) => {
      try {
        return [opened, gaveUpFile ? await GaveUpStore.open(gaveUpFile) : undefined] as const;
      } catch (err) {
        await opened.outbox.close().catch(() => undefined);
        throw err;
      }
    });
    return opening.then(
      ([{ outbox, replay }, gaveUp]) => {
        if (this.closing) return void Promise.all([outbox.close(), gaveUp?.close()]);
        this.outbox = outbox;
        if (gaveUp) this.deliveries = this.sidebarOver(gaveUp);
        this.reportReplay(replay);
        this.queue = this.startQueue(outbox);
        this.queue.scheduleAll(outbox.entries().map(({ id, dueAt, attempts }) => ({ id, dueAt, attempts })));
        this.hooks.onChange();
      },
      (err: unknown) => {
        const { message, status } = this.health.openFailed(err);
        this.error = message;
        this.options.log.error(message);
        this.options.onStatus({ fill: "red", shape: "ring", text: status });
      },
    );
  }

  async add(entry: OutboxEntry): Promise<void> {
    const outbox = this.outbox as OutboxStore;
    try {
      await outbox.add(entry);
    } catch (err) {
      throw this.health.failed(err);
    }
    this.health.wrote();
    if (!this.closing) this.queue?.schedule({ id: entry.id, dueAt: entry.dueAt, attempts: entry.attempts });
  }

  stop(): void {
    this.closing = true;
    this.queue?.stop();
  }

  async close(): Promise<number> {
    // Gave-up callbacks on their way from the outbox to the gave-up file get there first.
    await this.deliveries?.settled();
    const pending = this.pending;
    await this.outbox?.close();
    await this.deliveries?.close();
    return pending;
  }

  private sidebarOver(gaveUp: GaveUpStore): FileSidebar {
    const sidebar = new FileSidebar(
      gaveUp,
      () => this.outbox,
      () => this.queue,
      Date.now,
      this.options.deliveryLog,
      this.options.t,
    );
    sidebar.onCancelled = (entry, body) => this.hooks.onCancelled(entry, body, entry.attempts);
    sidebar.pausedOf = () => this.receivers.paused();
    return sidebar;
  }

  private reportReplay(replay: ReplayReport): void {
    const { t, log, journal: file } = this.options;
    if (replay.tornTail) log.warn(t("log.torn-tail", { file }));
    if (replay.unreadableLines > 0) log.warn(t("log.unreadable", { count: replay.unreadableLines, file }));
    if (replay.entries > 0) log.info(t("log.resuming", { count: replay.entries, file }));
  }

  /** The queue decides when; the outbox keeps each decision on disk. */
  private startQueue(outbox: OutboxStore): DeliveryQueue {
    const { hooks } = this;
    const journalError = (err: unknown): void => void this.health.failed(err);
    return new DeliveryQueue({
      concurrency: this.options.concurrency,
      schedule: this.options.schedule,
      retry4xx: this.options.retry4xx,
      // The body may be on disk only (a long queue): read back for each attempt, kept while it runs.
      attempt: async (id) => {
        const body = await outbox.body(id);
        const entry = outbox.peek(id);
        if (!entry) throw new Error(this.options.t("errors.gone-from-outbox", { id }));
        this.bodiesInFlight.set(id, body);
        return hooks.attempt(entry, body);
      },
      onRetry: (id, attempts, dueAt, result) => {
        this.bodiesInFlight.delete(id);
        hooks.onRetry();
        this.deliveries?.attempted({ ok: false, statusCode: result.statusCode, error: result.error });
        const history = historyWith(outbox.peek(id)?.history, result);
        outbox.reschedule(id, { attempts, dueAt, lastStatus: result.statusCode, lastError: result.error, history }).catch(journalError);
      },
      onFinish: (id, attempts, result, finish) => {
        const entry = outbox.peek(id);
        const body = this.bodiesInFlight.get(id);
        this.bodiesInFlight.delete(id);
        if (!entry) return;
        if (finish === "delivered") {
          this.deliveries?.delivered(entry, body, result, attempts);
          outbox.remove(id).catch(journalError);
        } else if (this.deliveries) this.deliveries.failed(entry, body, result, attempts).catch(journalError);
        else outbox.remove(id).catch(journalError);
        hooks.onFinish(entry, body, result, attempts, finish);
      },
      onChange: () => hooks.onChange(),
      receivers: { of: (id) => hooks.receiverOf(outbox.peek(id) ?? {}), gate: this.receivers },
    });
  }
}
