// What one callback out node does, without Node-RED: accept a msg (format, hand it to the backend,
// then acknowledge), attempt each callback the backend's loop gives back, report each outcome and
// the status, answer the editor's "send test", and close. Where callbacks wait is the backend's
// business (file-backend.ts, store-backend.ts), chosen once here.
import type { Dispatcher } from "undici";
import type { OutDeliveries } from "../shared/deliveries-api";
import type { OutboxEntry } from "../outbox/types";
import type { NodeMessage, NodeStatus } from "../shared/node-red-types";
import { attemptHeaders } from "./attempt-headers";
import type { BackendHooks, FinishedEntry, OutboxBackend } from "./backend";
import { timed } from "./attempt-timer";
import { deliverOnce, type DeliveryMessages, type DeliveryResult } from "./deliver";
import type { Finish } from "./delivery-queue";
import { FileBackend } from "./file-backend";
import { ContentError, entryOfMsg } from "./msg-entry";
import { deliveryMessages } from "./failure-words";
import { markGaveUp, outputMsg, withoutPayload } from "./output-msg";
import { createNetworkDispatcher } from "./network";
import type { HeaderSettings } from "./request-headers";
import type { CallbackOutSettings } from "./settings";
import { StoreBackend } from "./store-backend";
import { clockTime, senderStatus, type SenderState } from "./status";
import { normalisedOrigin } from "./origins";
import type { Change } from "./receiver-health";
import { sendTest, type TestReply } from "./send-test";
import type { SenderOptions } from "./types";

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
  private statusTimer: NodeJS.Timeout | undefined;
  private lastFinish: SenderState["lastFinish"];
  /** The payload field of the last msg refused for its content, shown until a msg is taken again. */
  private refusedField: string | undefined;
  private closing = false;
  private readonly backend: OutboxBackend;
  private ready: Promise<void> = Promise.resolve();

  constructor(private readonly options: SenderOptions) {
    this.settings = options.settings;
    this.headerSettings = { ...options.settings, userAgent: options.userAgent };
    // Through the proxy config node, else the environment's proxy variables, as core http request.
    this.dispatcher = createNetworkDispatcher(options.settings.concurrency, options.settings.network, process.env, options.t);
    this.deliveryMessages = deliveryMessages(options.t);
    this.backend = this.backendFor(options);
  }

  /** What the deliveries sidebar shows and acts on: the backend's (the file outbox's once open). */
  get sidebar(): OutDeliveries | undefined {
    return this.backend.sidebar;
  }

  /** Whether a receiver is paused after failing attempts (the metrics read it). */
  get paused(): boolean {
    return this.backend.paused() !== undefined;
  }

  /** Callbacks in the outbox now. */
  get pending(): number {
    return this.backend.pending;
  }

  /** The callback store's queue when the node has a store, else the journal file. */
  private backendFor(options: SenderOptions): OutboxBackend {
    const { settings, t, log, deliveryLog } = options;
    const hooks: BackendHooks = {
      attempt: (entry, body) => this.attempt(settings.url || entry.url || "", body, entry.executionId),
      onFinish: (entry, body, result, attempts, finish) => this.finish(entry, body, result, attempts, finish),
      onCancelled: (entry, body, attempts) => this.cancelled(entry, body, attempts),
      onRetry: () => this.options.metrics?.attempted("failed"),
      onChange: () => this.showStatus(),
      receiverOf: (entry) => normalisedOrigin(settings.url || entry.url || "") ?? "",
      receiverChanged: (receiver, change) => this.receiverChanged(receiver, change),
    };
    if (options.shared) return new StoreBackend({ ...settings, shared: options.shared, t, log, deliveryLog }, hooks);
    const { journal, bodyMemoryBytes, openOutbox, gaveUpFile } = options;
    const onStatus = (status: NodeStatus): void => options.onStatus(status);
    return new FileBackend({ ...settings, journal, bodyMemoryBytes, t, log, onStatus, openOutbox, gaveUpFile, deliveryLog }, hooks);
  }

  /** Opens the outbox and resumes what it holds; a failure is logged and shown, and later msgs are refused with it. */
  start(): Promise<void> {
    this.ready = this.backend.start();
    return this.ready;
  }

  /** Resolves once the callback is durable in the outbox (acknowledge the msg); rejects with the msg's error. */
  async accept(msg: NodeMessage): Promise<void> {
    await this.ready;
    this.refuseIfClosed();
    const entry = this.contentChecked(msg);
    if (this.backend.finishesHere) {
      // A shallow copy taken now: other nodes may still hold and change the input msg object.
      this.inputMsgs.set(entry.id, withoutPayload(msg));
      this.showStatus();
    }
    try {
      await this.backend.add(entry);
    } catch (err) {
      this.inputMsgs.delete(entry.id);
      throw err;
    }
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
    this.backend.stop();
    if (this.statusTimer) clearTimeout(this.statusTimer);
    this.stopAll.abort();
    try {
      await this.ready;
      const kept = await this.backend.close();
      await this.dispatcher.destroy().catch(() => undefined);
      if (kept > 0) {
        if (removed) log.warn(t("log.kept-removed", { count: kept, file: journal, id: this.options.nodeId }));
        else log.info(t("log.kept", { count: kept, file: journal }));
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
    this.refuseIfClosed();
    if (this.backend.full) throw new Error(t("errors.queue-full", { max: config.maxQueue }));
    return entryOfMsg(msg, config, t);
  }

  /** Closing, or the outbox did not open: the msg's error. */
  private refuseIfClosed(): void {
    if (this.closing || !this.backend.open) throw new Error(this.backend.openError ?? this.options.t("errors.closing"));
  }

  /** An attempt of a queued callback, timed for the metrics (a test send is not). */
  private attempt(url: string, body: string, executionId: string): Promise<DeliveryResult> {
    const startedAt = Date.now();
    const started = performance.now();
    // Stamped for the attempts the callback's record keeps (the sidebar shows when and how long).
    return timed(this.options.metrics, () => this.send(url, body, executionId)).then((result) => {
      result.startedAt = startedAt;
      result.ms = performance.now() - started;
      return result;
    });
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

  /** Said once when a receiver pauses and once when it resumes; the status shows the pause meanwhile. */
  private receiverChanged(receiver: string, change: Change & object): void {
    const { t, log, settings } = this.options;
    if (change.kind === "paused") {
      const { pauseAfter, pauseForMs } = settings.receiverRule;
      log.warn(t("log.receiver-paused", { receiver, count: pauseAfter, seconds: pauseForMs / 1000 }));
    } else log.info(t("log.receiver-resumed", { receiver, time: clockTime(change.since) }));
    this.showStatus();
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
        inFlight: this.backend.inFlight,
        next: this.backend.nextDue(),
        retries: this.settings.schedule.length,
        lastFinish: this.lastFinish,
        refusing: this.backend.refusing,
        refusedField: this.refusedField,
        problem: this.settings.problems[0],
        paused: this.backend.paused(),
      },
      this.options.t,
    );
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
