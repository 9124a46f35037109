// callback out's outbox when a callback store is configured: entries go to the queue in the store
// (acknowledged once the store has them), and SharedDelivery takes due ones from it, with the
// other instances running the same flow. Keeps what the node's status needs: pending entries
// (counted in the store), attempts in flight, and why msgs are refused while the store is away.
import type { OutboxEntry } from "../outbox/types";
import type { RedisOutbox } from "../outbox/redis-outbox";
import type { Translate } from "../shared/messages";
import type { DeliveryResult } from "./deliver";
import type { Finish } from "./delivery-queue";
import type { SenderLog } from "./types";
import { SharedDelivery } from "./shared-delivery";
import { SharedDeliveries } from "./shared-deliveries";
import type { DeliveryLog } from "./delivery-log";

/** What Sender hands over when the node has a store. */
export interface SharedOutbox {
  outbox: RedisOutbox;
  /** Calls back on every change of the store's state; returns the function that stops it. */
  watch?(listener: (state: "connecting" | "ready" | "down", error: string) => void): () => void;
}

export interface SharedBackendOptions {
  shared: SharedOutbox;
  concurrency: number;
  schedule: readonly number[];
  retry4xx: boolean;
  maxQueue: number;
  t: Translate;
  log: SenderLog;
  attempt(entry: Readonly<OutboxEntry>): Promise<DeliveryResult>;
  onFinish(entry: Readonly<OutboxEntry>, attempts: number, result: DeliveryResult, finish: Finish): void;
  onChange(): void;
  /** An attempt failed and its callback waits for another (for the metrics). */
  onRetry?(): void;
  /** The delivery log kept from before a redeploy. */
  deliveryLog?: DeliveryLog | undefined;
}

export class SharedBackend {
  private readonly delivery: SharedDelivery;
  /** What the deliveries sidebar shows and acts on: the shared queue, and this instance's log. */
  readonly deliveries: SharedDeliveries;
  private count = 0;
  private counting: NodeJS.Timeout | undefined;
  private down: string | undefined;
  private readonly unwatch: (() => void) | undefined;
  private closed = false;

  constructor(private readonly options: SharedBackendOptions) {
    const { shared } = options;
    this.delivery = new SharedDelivery({
      outbox: shared.outbox,
      concurrency: options.concurrency,
      schedule: options.schedule,
      retry4xx: options.retry4xx,
      attempt: (entry) => options.attempt(entry),
      onAttempted: (result, ok) => this.deliveries.attempted({ ok, statusCode: result.statusCode, error: result.error }),
      onFinish: (entry, attempts, result, finish) => {
        if (finish === "delivered") this.noteDelivered(entry, attempts, result);
        options.onFinish(entry, attempts, result, finish);
      },
      ...(options.onRetry ? { onRetry: options.onRetry } : {}),
      onStoreError: (err) => this.failed(err),
      onChange: () => this.recount(),
    });
    this.deliveries = new SharedDeliveries(shared.outbox, () => this.delivery.wake(), Date.now, options.deliveryLog);
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

  start(): void {
    this.delivery.start();
  }

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
    this.options.onChange();
  }

  /** Stops taking entries and gives back those held; what is pending stays in the store. */
  async close(): Promise<number> {
    this.closed = true;
    this.unwatch?.();
    if (this.counting) clearTimeout(this.counting);
    await this.delivery.stop().catch(() => undefined);
    return this.count;
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
    });
  }

  /** The store failed: the error for the msg, logged once until the store works again. */
  private failed(err: unknown): Error {
    const { t, log } = this.options;
    const error = err instanceof Error ? err.message : String(err);
    const message = t("errors.store-unreachable", { error });
    if (this.down === undefined) log.error(message);
    this.down = t("status.store-down", { error });
    this.options.onChange();
    return new Error(message);
  }

  private worked(): void {
    if (this.down === undefined) return;
    this.down = undefined;
    const { t, log } = this.options;
    log.info(t("log.store-back"));
    this.options.onChange();
  }

  /** Counts the store's pending entries again, at most twice a second. */
  private recount(): void {
    if (this.counting || this.closed) return;
    this.counting = setTimeout(() => {
      this.options.shared.outbox.size().then(
        (size) => {
          this.counting = undefined;
          this.count = size;
          this.options.onChange();
        },
        () => (this.counting = undefined),
      );
    }, 500);
  }
}
