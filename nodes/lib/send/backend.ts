// Where callback out keeps its callbacks until they are delivered: the journal file (file-backend.ts)
// or the callback store shared with other instances (store-backend.ts). A backend is chosen once,
// where the node starts; Sender formats, attempts and reports the same way for both.
import type { OutboxEntry, QueuedEntry } from "../outbox/types";
import type { OutDeliveries } from "../shared/deliveries-api";
import type { DeliveryResult } from "./deliver";
import type { Finish } from "./delivery-queue";
import type { Change, PauseView } from "./receiver-health";

/** What an output msg needs of the callback it reports on. */
export type FinishedEntry = Pick<QueuedEntry, "id" | "executionId" | "topic">;

/** What a backend asks of the Sender: one attempt, and to report what happened. */
export interface BackendHooks {
  /** One attempt of a callback's exact body (to the node's URL, else the one the msg gave). */
  attempt(entry: Pick<OutboxEntry, "url" | "executionId">, body: string): Promise<DeliveryResult>;
  /** A callback is done (its entry already removed by the backend's own loop). */
  onFinish(entry: FinishedEntry, body: string | undefined, result: DeliveryResult, attempts: number, finish: Finish): void;
  /** A callback cancelled in the sidebar. */
  onCancelled(entry: FinishedEntry, body: string | undefined, attempts: number): void;
  /** An attempt failed and its callback waits for another (the metrics count it). */
  onRetry(): void;
  /** Something the status shows changed. */
  onChange(): void;
  /** The receiver (origin) a callback goes to: pause and pace are per receiver. */
  receiverOf(entry: Pick<OutboxEntry, "url">): string;
  /** This instance's attempt paused or resumed a receiver (said once in the log). */
  receiverChanged(receiver: string, change: NonNullable<Change>): void;
}

export interface OutboxBackend {
  /** Callbacks added here finish here: keeping the input msg for the output msg is worth it. */
  readonly finishesHere: boolean;
  /** False until the outbox is open (and for good when it failed to open). */
  readonly open: boolean;
  /** Why the outbox did not open, given to every msg. */
  readonly openError: string | undefined;
  /** The outbox is full now: refuse the msg before formatting it. */
  readonly full: boolean;
  /** Callbacks pending now. */
  readonly pending: number;
  readonly inFlight: number;
  /** Why msgs are refused now (the outbox cannot be written); undefined while they are taken. */
  readonly refusing: string | undefined;
  /** What the deliveries sidebar shows and acts on; undefined while there is none. */
  readonly sidebar: OutDeliveries | undefined;
  /** A receiver paused after failing attempts (for the status, the sidebar and the metrics). */
  paused(): PauseView | undefined;
  /** The next attempt this instance knows of (when, and how many before it). */
  nextDue(): { attempts: number; dueAt: number } | undefined;
  /** Opens the outbox and starts its delivery loop; resolves also when opening failed (see openError). */
  start(): Promise<void>;
  /** Resolves once the entry is durable (acknowledge the msg); rejects with the msg's error. */
  add(entry: OutboxEntry): Promise<void>;
  /** Stops the delivery loop at once (close follows). */
  stop(): void;
  /** Closes the outbox; resolves with the callbacks kept for this node's next start (to log). */
  close(): Promise<number>;
}
