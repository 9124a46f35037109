// callback out's queue in a callback store (Redis), shared with every instance running the flow:
// the store outbox with its lease and this instance's holder name, and the connection's state.
import { hostname } from "node:os";
import { StoreOutbox } from "../outbox/store-outbox";
import { SharedRecords } from "../store/shared-records";
import { readReceiverState } from "./store-receiver-health";
import { numberOrDefault, type NumberReading } from "../shared/config-values";
import { randomHex } from "../shared/random-hex";
import type { NodeAPI } from "../shared/node-red-types";
import type { Translate } from "../shared/messages";
import { findStore, storeId, type FoundStore } from "../store/store-node";
import type { StoreOutboxLink } from "./types";

/** The store's queue for node `nodeId`, or `error` (`noStore`) when the store node is not deployed; `problem`: a bad lease. */
export function storeOutboxLink(
  found: FoundStore,
  nodeId: string,
  leaseSeconds: unknown,
  timeoutMs: number,
  noStore: string,
): { link?: StoreOutboxLink; error?: string; problem?: NumberReading["problem"] } {
  if (!found.ok) return { error: noStore };
  const connection = found.store.agentCallbackStore();
  const lease = numberOrDefault("leaseSeconds", leaseSeconds, 60, { min: 1 });
  // A lease shorter than one attempt would let another instance send the same callback meanwhile.
  const leaseMs = Math.max(lease.value * 1000, timeoutMs + 5000);
  const holder = `${hostname()}:${process.pid}:${randomHex(4)}`;
  const outbox = new StoreOutbox(connection, { queueKey: connection.key("outbox", nodeId), leaseMs, holder });
  const link: StoreOutboxLink = {
    outbox,
    receivers: new SharedRecords(connection, outbox.receiversKey, readReceiverState),
    watch: (listener) => connection.onChange(listener),
  };
  return lease.problem ? { link, problem: lease.problem } : { link };
}

/**
 * The queue in the callback store named by a node's `store` property; undefined without a store; an
 * Error when the store config node is not deployed. A bad lease is warned about (`warn`).
 */
export function storeOutboxFor(
  RED: NodeAPI,
  t: Translate,
  node: { id: string; warn(text: string): void },
  def: { store?: unknown; leaseSeconds?: unknown },
  timeoutMs: number,
): StoreOutboxLink | Error | undefined {
  const id = storeId(def.store);
  if (id === undefined) return undefined;
  const found = storeOutboxLink(findStore(RED, id), node.id, def.leaseSeconds, timeoutMs, t("errors.no-store", { id }));
  if (found.problem) node.warn(t("errors.bad-number", { ...found.problem }));
  return found.link ?? new Error(found.error);
}
