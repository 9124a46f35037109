// What one callback out node does, without Node-RED: accept a msg (format, journal, then
// acknowledge), resume what the outbox holds, deliver through the queue, report each outcome
// and the status, answer the editor's "send test", and close keeping the journal.
import type { Dispatcher } from "undici";
import type { OutDeliveries } from "../shared/deliveries-api";
import { Outbox, type OutboxOptions } from "../outbox/outbox";
import type { OutboxEntry, OutboxStore, QueuedEntry, ReplayReport } from "../outbox/types";
import type { NodeMessage, NodeStatus } from "../shared/node-red-types";
import { attemptHeaders } from "./attempt-headers";
import { timed } from "./attempt-timer";
import { deliverOnce, type DeliveryMessages, type DeliveryResult } from "./deliver";
import { DeliveryQueue, type Finish } from "./delivery-queue";
import { ContentError, entryOfMsg } from "./msg-entry";
import { OutboxHealth } from "./outbox-health";
import { deliveryMessages } from "./failure-words";
import { markGaveUp, outputMsg, withoutPayload } from "./output-msg";
import { createNetworkDispatcher } from "./network";
import type { HeaderSettings } from "./request-headers";
import type { CallbackOutSettings } from "./settings";
import { SharedBackend, type SharedOutbox } from "./shared-backend";
import { senderStatus, type SenderState } from "./status";
import { GaveUpStore } from "./gave-up-store";
import { SendDeliveries } from "./send-deliveries";
import { sendTest, type TestReply } from "./send-test";
import type { SenderOptions } from "./types";

/** What an output msg needs of the callback it reports on. */
type FinishedEntry = Pick<QueuedEntry, "id" | "executionId" | "topic">;

/** The "result" of a callback cancelled in the sidebar: no attempt, no reply. */
const CANCELLED: DeliveryResult = { outcome: { kind: "refused", error: "cancelled" }, error: "cancelled" };

export class Sender {
  private readonly settings: CallbackOutSettings;
  private readonly headerSettings: HeaderSettings;
  private readonly dispatcher: Dispatcher;
  private readonly stopAll = new AbortController();
  private readonly deliveryMessages: DeliveryMessages;
  /** Input msgs of callbacks queued in this run, kept without payload and error for the outputs. */
  private readonly inputMsgs = new Map<string, NodeMessage>();
  /** Bodies of the attempts in flight, for the output msg's `callback`. */
  private readonly bodiesInFlight = new Map<string, string>();
  private statusTimer: NodeJS.Timeout | undefined;
  private lastFinish: SenderState["lastFinish"];
  /** The payload field of the last msg refused for its content, shown until a msg is taken again. */
  private refusedField: string | undefined;
  private closing = false;
  private outbox: OutboxStore | undefined;
  private queue: DeliveryQueue | undefined;
  private openError: string | undefined;
  private ready: Promise<void> = Promise.resolve();
  private readonly health: OutboxHealth;
  /** What the deliveries sidebar shows and acts on; set once the outbox is open. */
  deliveries: SendDeliveries | undefined;
  private readonly shared: SharedBackend | undefined;
  /** Whether the receiver is paused after failing attempts: the pause (issue 22) sets it; the metrics read it. */
  paused = false;

  constructor(private readonly options: SenderOptions) {
    this.health = new OutboxHealth(options.journal, options.t, options.log, () => this.showStatus());
    this.settings = options.settings;
    this.headerSettings = { ...options.settings, userAgent: options.userAgent };
    // Through the proxy config node, else the environment's proxy variables, as core http request.
    this.dispatcher = createNetworkDispatcher(options.settings.concurrency, options.settings.network, process.env, options.t);
    this.deliveryMessages = deliveryMessages(options.t);
    if (options.shared) {
      this.shared = this.sharedBackend(options.shared);
      this.shared.deliveries.onCancelled = (record) => this.cancelled(record, record.body, record.attempts);
    }
  }

  /** What the deliveries sidebar shows and acts on: the shared queue's with a store, else the file outbox's once open. */
  get sidebar(): OutDeliveries | undefined {
    return this.shared?.deliveries ?? this.deliveries;
  }

  /** Callbacks in the outbox now. */
  get pending(): number {
    return this.shared ? this.shared.pending : (this.outbox?.size ?? 0);
  }

  private sharedBackend(shared: SharedOutbox): SharedBackend {
    const { settings } = this;
    return new SharedBackend({
      ...settings,
      shared,
      t: this.options.t,
      log: this.options.log,
      attempt: (entry) => this.attempt(settings.url || entry.url || "", entry.body, entry.executionId),
      onFinish: (entry, attempts, result, finish) => this.finish(entry, entry.body, result, attempts, finish),
      onChange: () => this.showStatus(),
      onRetry: () => this.options.metrics?.attempted("failed"),
      deliveryLog: this.options.deliveryLog,
    });
  }

  /** Opens the outbox and resumes what it holds; a failure is logged and shown, and later msgs are refused with it. */
  start(): Promise<void> {
    const { log, journal, bodyMemoryBytes } = this.options;
    if (this.shared) return Promise.resolve(this.shared.start());
    const open = this.options.openOutbox ?? ((file: string, options?: OutboxOptions) => Outbox.open(file, options));
    const { gaveUpFile } = this.options;
    // The gave-up file after the outbox: its folder is trusted only once the outbox has checked it.
    const opening = open(journal, { bodyMemoryBytes }).then(async (opened) => {
      try {
        return [opened, gaveUpFile ? await GaveUpStore.open(gaveUpFile) : undefined] as const;
      } catch (err) {
        await opened.outbox.close().catch(() => undefined);
        throw err;
      }
    });
    this.ready = opening.then(
      ([{ outbox, replay }, gaveUp]) => {
        if (this.closing) return void Promise.all([outbox.close(), gaveUp?.close()]);
        this.outbox = outbox;
        if (gaveUp) {
          this.deliveries = new SendDeliveries(
            gaveUp,
            () => this.outbox,
            () => this.queue,
            Date.now,
            this.options.deliveryLog,
          );
          this.deliveries.onCancelled = (entry, body) => this.cancelled(entry, body, entry.attempts);
        }
        this.reportReplay(replay);
        this.queue = this.startQueue(outbox);
        this.queue.scheduleAll(outbox.entries().map(({ id, dueAt, attempts }) => ({ id, dueAt, attempts })));
        this.showStatus();
      },
      (err: unknown) => {
        const { message, status } = this.health.openFailed(err);
        this.openError = message;
        log.error(message);
        this.options.onStatus({ fill: "red", shape: "ring", text: status });
      },
    );
    return this.ready;
  }

  /** Resolves once the callback is durable in the outbox (acknowledge the msg); rejects with the msg's error. */
  async accept(msg: NodeMessage): Promise<void> {
    await this.ready;
    const { t } = this.options;
    if (this.closing || (!this.shared && !this.outbox)) throw new Error(this.openError ?? t("errors.closing"));
    const entry = this.contentChecked(msg);
    if (this.shared) return this.shared.add(entry);
    const outbox = this.outbox as OutboxStore;
    // A shallow copy taken now: other nodes may still hold and change the input msg object.
    this.inputMsgs.set(entry.id, withoutPayload(msg));
    this.showStatus();
    try {
      await outbox.add(entry);
    } catch (err) {
      this.inputMsgs.delete(entry.id);
      throw this.health.failed(err);
    }
    this.health.wrote();
    if (!this.closing) this.queue?.schedule({ id: entry.id, dueAt: entry.dueAt, attempts: entry.attempts });
  }

  /** One attempt with the seed's sample payload to the node's URL; nothing is queued. */
  async sendTest(): Promise<TestReply> {
    if (this.settings.url === "") throw new Error(this.options.t("errors.test-no-url"));
    return sendTest(this.settings.url, (url, body, executionId) => this.send(url, body, executionId), this.options.t);
  }

  /** Stops timers and attempts and closes the outbox; pending callbacks stay in it for the next start. */
  async close(removed: boolean): Promise<void> {
    const { t, log, journal } = this.options;
    this.closing = true;
    this.queue?.stop();
    if (this.statusTimer) clearTimeout(this.statusTimer);
    this.stopAll.abort();
    try {
      await this.ready;
      // Gave-up callbacks on their way from the outbox to the gave-up file get there first.
      await this.deliveries?.settled();
      const pending = this.shared ? await this.shared.close() : this.pending;
      await this.outbox?.close();
      await this.deliveries?.close();
      await this.dispatcher.destroy().catch(() => undefined);
      // A shared store keeps its entries for the other instances: nothing of this node's to report.
      if (pending > 0 && !this.shared) {
        if (removed) log.warn(t("log.kept-removed", { count: pending, file: journal, id: this.options.nodeId }));
        else log.info(t("log.kept", { count: pending, file: journal }));
      }
    } catch (err) {
      log.error(t("errors.outbox-write", { file: journal, error: errorText(err) }));
    }
  }

  /** entryFor, with a msg refused for its content shown in the status until a msg is taken again. */
  private contentChecked(msg: NodeMessage): OutboxEntry {
    try {
      const entry = this.entryFor(msg);
      if (this.refusedField !== undefined) {
        this.refusedField = undefined;
        this.showStatus();
      }
      return entry;
    } catch (err) {
      if (err instanceof ContentError) {
        this.refusedField = err.field;
        this.showStatus();
      }
      throw err;
    }
  }

  /** The outbox entry for a msg, or the msg's error (no URL, invalid payload, queue full, not ready). */
  private entryFor(msg: NodeMessage): OutboxEntry {
    const { t } = this.options;
    const config = this.settings;
    if (this.closing || (!this.shared && !this.outbox)) throw new Error(this.openError ?? t("errors.closing"));
    if (this.outbox && this.outbox.size >= config.maxQueue) throw new Error(t("errors.queue-full", { max: config.maxQueue }));
    return entryOfMsg(msg, config, t);
  }

  private reportReplay(replay: ReplayReport): void {
    const { t, log, journal: file } = this.options;
    if (replay.tornTail) log.warn(t("log.torn-tail", { file }));
    if (replay.unreadableLines > 0) log.warn(t("log.unreadable", { count: replay.unreadableLines, file }));
    if (replay.entries > 0) log.info(t("log.resuming", { count: replay.entries, file }));
  }

  /** An attempt of a queued callback, timed for the metrics (a test send is not). */
  private attempt(url: string, body: string, executionId: string): Promise<DeliveryResult> {
    return timed(this.options.metrics, () => this.send(url, body, executionId));
  }

  private send(url: string, body: string, executionId: string): Promise<DeliveryResult> {
    const target = { url, nodeUrl: this.settings.url !== "" };
    const made = attemptHeaders(
      target,
      this.settings.origins,
      this.headerSettings,
      this.options.credentials,
      { executionId, body },
      this.options.t,
    );
    if ("refused" in made) return Promise.resolve({ outcome: { kind: "refused", error: made.refused }, error: made.refused });
    return deliverOnce({
      url,
      body,
      headers: made.headers,
      timeoutMs: this.settings.timeoutMs,
      dispatcher: this.dispatcher,
      signal: this.stopAll.signal,
      messages: this.deliveryMessages,
    });
  }

  /** The queue decides when; the outbox keeps each decision on disk. */
  private startQueue(outbox: OutboxStore): DeliveryQueue {
    const { settings } = this;
    const journalError = (err: unknown): void => void this.health.failed(err);
    return new DeliveryQueue({
      concurrency: settings.concurrency,
      schedule: settings.schedule,
      retry4xx: settings.retry4xx,
      // The body may be on disk only (a long queue): read back for each attempt, kept while it runs.
      attempt: async (id) => {
        const body = await outbox.body(id);
        const entry = outbox.peek(id);
        if (!entry) throw new Error(`callback ${id} is no longer in the outbox`);
        this.bodiesInFlight.set(id, body);
        return this.attempt(settings.url || entry.url || "", body, entry.executionId);
      },
      onRetry: (id, attempts, dueAt, result) => {
        this.bodiesInFlight.delete(id);
        this.options.metrics?.attempted("failed");
        this.deliveries?.attempted({ ok: false, statusCode: result.statusCode, error: result.error });
        outbox.reschedule(id, { attempts, dueAt, lastStatus: result.statusCode, lastError: result.error }).catch(journalError);
      },
      onFinish: (id, attempts, result, finish) => {
        const entry = outbox.peek(id);
        const body = this.bodiesInFlight.get(id);
        this.bodiesInFlight.delete(id);
        if (!entry) return;
        (this.deliveries ? this.deliveries.finished(entry, body, result, attempts, finish) : outbox.remove(id)).catch(journalError);
        this.finish(entry, body, result, attempts, finish);
      },
      onChange: () => this.showStatus(),
    });
  }

  /** A callback cancelled in the sidebar: out on the gave-up output, marked, as a flow tracking every callback's end needs. */
  private cancelled(entry: FinishedEntry, body: string | undefined, attempts: number): void {
    this.finish(entry, body, CANCELLED, attempts, "gave-up", true);
  }

  private finish(
    entry: FinishedEntry,
    body: string | undefined,
    result: DeliveryResult,
    attempts: number,
    finish: Finish,
    cancelled = false,
  ): void {
    const { t } = this.options;
    if (!cancelled) this.options.metrics?.attempted(finish === "delivered" ? "delivered" : "gave_up");
    this.lastFinish = { finish, code: result.statusCode !== undefined ? String(result.statusCode) : t("status.no-reply"), cancelled };
    this.showStatus();
    const input = this.inputMsgs.get(entry.id);
    this.inputMsgs.delete(entry.id);
    // Nothing listens for delivered msgs: none to build (parsing the body back is most of the cost).
    if (finish === "delivered" && this.options.wantsDelivered?.() === false) return;
    try {
      const msg = outputMsg(input, entry, body, result, attempts);
      if (finish === "gave-up") {
        markGaveUp(msg, entry.executionId, attempts, cancelled ? undefined : result, t);
        // A callback given up is lost for the receiver: say so even when nothing is wired to output 2.
        this.options.log.warn(String(msg.error));
      }
      this.options.onOutcome(finish, msg);
    } catch (err) {
      // Say, e.g. Node-RED's copy of a msg that holds something it cannot clone: reported, never an unhandled rejection.
      this.options.log.error(t("errors.output-failed", { id: entry.executionId, finish, error: errorText(err) }));
    }
  }

  /** Marks the status stale; the timer shows the state as it is when it fires, so the last state stays shown. */
  private showStatus(): void {
    if (this.statusTimer || this.closing) return;
    this.statusTimer = setTimeout(() => {
      this.statusTimer = undefined;
      if (!this.closing) this.options.onStatus(this.status());
    }, this.options.statusDelayMs ?? 250);
  }

  private status(): NodeStatus {
    return senderStatus(
      {
        pending: this.pending,
        inFlight: this.shared?.inFlight ?? this.queue?.inFlight ?? 0,
        next: this.queue?.nextDue(),
        retries: this.settings.schedule.length,
        lastFinish: this.lastFinish,
        refusing: this.shared?.refusing ?? this.health.refusing,
        refusedField: this.refusedField,
        problem: this.settings.problems[0],
      },
      this.options.t,
    );
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
