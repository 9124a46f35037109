// callback out's outbox when a callback store is configured: entries go to the queue in the store
// (acknowledged once the store has them), and StoreQueue takes due ones from it, with the
// other instances running the same flow. Keeps what the node's status needs: pending entries
// (counted in the store), attempts in flight, and why msgs are refused while the store is away.
import type { OutboxEntry } from "../outbox/types";
import type { Translate } from "../shared/messages";
import type { DeliveryResult } from "./deliver";
import type { BackendHooks, OutboxBackend } from "./backend";
import type { OutDeliveries } from "../shared/deliveries-api";
import type { SenderLog, StoreOutboxLink } from "./types";
import { StoreQueue } from "./store-queue";
import { historyWith } from "./attempt-history";
import { StoreSidebar } from "./store-sidebar";
import type { DeliveryLog } from "./delivery-log";
import type { PauseView, ReceiverRule } from "./receiver-health";
import { StoreReceiverHealth } from "./store-receiver-health";

export interface StoreBackendOptions {
  shared: StoreOutboxLink;
  concurrency: number;
  schedule: readonly number[];
  retry4xx: boolean;
  maxQueue: number;
  receiverRule: ReceiverRule;
  /** The node's URL ('' when each msg gives its own): with one, every callback goes to one receiver. */
  url: string;
  t: Translate;
  log: SenderLog;
  /** The delivery log kept from before a redeploy. */
  deliveryLog?: DeliveryLog | undefined;
}

export class StoreBackend implements OutboxBackend {
  /** Another instance may deliver what this one added: no input msg is kept for the output. */
  readonly finishesHere = false;
  readonly open = true;
  readonly openError = undefined;
  /** The store says when it is full, as it adds (a count here could be stale). */
  readonly full = false;
  private readonly delivery: StoreQueue;
  /** Pause and pace per receiver, shared with the other instances through the store. */
  private readonly receivers: StoreReceiverHealth;
  /** What the deliveries sidebar shows and acts on: the shared queue, and this instance's log. */
  readonly deliveries: StoreSidebar;
  private count = 0;
  private counting: NodeJS.Timeout | undefined;
  private down: string | undefined;
  private readonly unwatch: (() => void) | undefined;
  private closed = false;

  constructor(
    private readonly options: StoreBackendOptions,
    private readonly hooks: BackendHooks,
  ) {
    const { shared } = options;
    this.receivers = new StoreReceiverHealth(shared.receivers, options.receiverRule, (receiver, change) =>
      hooks.receiverChanged(receiver, change),
    );
    this.delivery = new StoreQueue({
      outbox: shared.outbox,
      concurrency: options.concurrency,
      schedule: options.schedule,
      retry4xx: options.retry4xx,
      t: options.t,
      attempt: (entry) => hooks.attempt(entry, entry.body),
      onAttempted: (result, ok) => this.deliveries.attempted({ ok, statusCode: result.statusCode, error: result.error }),
      onFinish: (entry, attempts, result, finish) => {
        if (finish === "delivered") this.noteDelivered(entry, attempts, result);
        hooks.onFinish(entry, entry.body, result, attempts, finish);
      },
      onRetry: () => hooks.onRetry(),
      onStoreError: (err) => this.failed(err),
      onChange: () => this.recount(),
      receivers: { of: (entry) => hooks.receiverOf(entry), gate: this.receivers, single: options.url !== "" },
    });
    this.deliveries = new StoreSidebar(shared.outbox, () => this.delivery.wake(), Date.now, options.deliveryLog);
    this.deliveries.onCancelled = (record) => hooks.onCancelled(record, record.body, record.attempts);
    this.deliveries.pausedOf = () => this.receivers.paused();
    this.unwatch = shared.watch?.((state, error) => {
      if (state === "down") this.failed(new Error(error));
      else if (state === "ready") {
        this.worked();
        // Adds published while the connection was down were missed: look now.
        this.delivery.wake();
      }
    });
  }

  /** Callbacks pending in the store (all instances), as last counted. */
  get pending(): number {
    return this.count;
  }

  get inFlight(): number {
    return this.delivery.inFlight;
  }

  /** Why msgs are refused now (the store cannot be reached); undefined while it can. */
  get refusing(): string | undefined {
    return this.down;
  }

  get sidebar(): OutDeliveries {
    return this.deliveries;
  }

  /** A receiver paused, as this instance last read the store. */
  paused(): PauseView | undefined {
    return this.receivers.paused();
  }

  /** The store's queue is every instance's: this one knows no next attempt to show. */
  nextDue(): undefined {
    return undefined;
  }

  start(): Promise<void> {
    this.delivery.start();
    return Promise.resolve();
  }

  /** The delivery loop stops in close, giving back the entries it holds. */
  stop(): void {}

  /** Resolves once the store has the entry (acknowledge the msg); rejects with the msg's error. */
  async add(entry: OutboxEntry): Promise<void> {
    let added: boolean;
    try {
      added = await this.options.shared.outbox.add(entry, this.options.maxQueue);
    } catch (err) {
      throw this.failed(err);
    }
    this.worked();
    const { t, maxQueue } = this.options;
    if (!added) throw new Error(t("errors.queue-full", { max: maxQueue }));
    this.count++;
    this.delivery.wake();
    this.hooks.onChange();
  }

  /** Stops taking entries and gives back those held; what is pending stays in the store for the other instances (none kept for this node to report). */
  async close(): Promise<number> {
    this.closed = true;
    this.unwatch?.();
    if (this.counting) clearTimeout(this.counting);
    await this.delivery.stop().catch(() => undefined);
    return 0;
  }

  private noteDelivered(entry: Readonly<OutboxEntry>, attempts: number, result: DeliveryResult): void {
    const { id, executionId, body, url, topic } = entry;
    this.deliveries.delivered({
      id,
      executionId,
      at: Date.now(),
      statusCode: result.statusCode,
      attempts,
      body,
      url,
      topic,
      reply: result.payload,
      history: historyWith(entry.history, result),
    });
  }

  /** The store failed: the error for the msg, logged once until the store works again. */
  private failed(err: unknown): Error {
    const { t, log } = this.options;
    const error = err instanceof Error ? err.message : String(err);
    const message = t("errors.store-unreachable", { error });
    if (this.down === undefined) log.error(message);
    this.down = t("status.store-down", { error });
    this.hooks.onChange();
    return new Error(message);
  }

  private worked(): void {
    if (this.down === undefined) return;
    this.down = undefined;
    const { t, log } = this.options;
    log.info(t("log.store-back"));
    this.hooks.onChange();
  }

  /** Counts the store's pending entries again, and reads the receivers' pauses, at most twice a second. */
  private recount(): void {
    if (this.counting || this.closed) return;
    this.counting = setTimeout(() => {
      Promise.all([this.options.shared.outbox.size(), this.receivers.refresh()]).then(
        ([size]) => {
          this.counting = undefined;
          this.count = size;
          this.hooks.onChange();
        },
        () => (this.counting = undefined),
      );
    }, 500);
  }
}
