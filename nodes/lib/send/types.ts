// What the sender is given by the node that wires it to Node-RED: settings, credentials, the log
// and the callbacks it reports through.
import type { OutboxOptions } from "../outbox/outbox";
import type { OpenOutbox } from "../outbox/types";
import type { Translate } from "../shared/messages";
import type { NodeMessage, NodeStatus } from "../shared/node-red-types";
import type { Finish } from "./delivery-queue";
import type { DeliveryLog } from "./delivery-log";
import type { CallbackCredentials } from "./request-headers";
import type { CallbackOutSettings } from "./settings";
import type { StoreOutbox } from "../outbox/store-outbox";
import type { SharedRecords } from "../store/shared-records";
import type { ReceiverState } from "./receiver-health";

export interface SenderLog {
  info(text: string): void;
  warn(text: string): void;
  error(text: string): void;
}

export interface SenderOptions {
  settings: CallbackOutSettings;
  credentials: CallbackCredentials;
  userAgent: string;
  /** The node's id, named when a removed node leaves callbacks behind. */
  nodeId: string;
  /** Where the outbox keeps pending callbacks (the journal file). */
  journal: string;
  /** Bytes of queued bodies kept in memory; the others are read back from the outbox. */
  bodyMemoryBytes: number;
  t: Translate;
  log: SenderLog;
  /** A callback is done: the output msg, delivered or given up (then with `msg.error`). */
  onOutcome(finish: Finish, msg: NodeMessage): void;
  onStatus(status: NodeStatus): void;
  /** False when nothing listens for delivered msgs: building one parses the body back. */
  wantsDelivered?(): boolean;
  /** The outbox backend; the journal file by default. */
  openOutbox?: OpenOutbox<OutboxOptions>;
  /** A queue in a callback store shared with other instances, instead of the journal file. */
  shared?: StoreOutboxLink;
  /** Milliseconds between status updates at most. */
  statusDelayMs?: number;
  /** Where gave-up callbacks are kept for the deliveries sidebar's resend; none: not kept. */
  gaveUpFile?: string;
  /** The sidebar's delivered list, counts and health, kept across a redeploy by the node. */
  deliveryLog?: DeliveryLog;
  /** Where each attempt is counted and timed (the Prometheus metrics); none: not counted. */
  metrics?: SenderMetrics;
}

/** Each attempt is counted once: delivered, failed (tried again later) or gave_up (its callback's last). */
export interface SenderMetrics {
  attempted(result: "delivered" | "failed" | "gave_up"): void;
  /** An attempt took `seconds`, until the receiver's reply or the error. */
  duration(seconds: number): void;
}

/** What Sender hands over when the node has a store. */
export interface StoreOutboxLink {
  outbox: StoreOutbox;
  /** Each receiver's pause and pace, in the store beside the queue. */
  receivers: SharedRecords<ReceiverState>;
  /** Calls back on every change of the store's state; returns the function that stops it. */
  watch?(listener: (state: "connecting" | "ready" | "down", error: string) => void): () => void;
}
