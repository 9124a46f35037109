// Dedupe and rate limit through a callback store (Redis), shared by every instance running the flow.
import type { ReceiveSettings } from "./settings";
import type { DedupeCheck, RateLimit } from "./receiver";
import { StoreDedupe } from "./store-dedupe";
import { StoreTokenBucket } from "./store-rate-limit";
import { StoreUnavailableError, type StoreConnection } from "../store/connection";
import { findStore, storeId, type FoundStore } from "../store/store-node";
import type { NodeAPI } from "../shared/node-red-types";
import type { Translate } from "../shared/messages";

/** Dedupe and rate limit shared through the callback store, or why they cannot be. */
export interface StoreChecks {
  dedupe: DedupeCheck;
  rateLimit: RateLimit;
  connection?: StoreConnection;
  problem?: string;
}

/** A check that always fails as "store unreachable": requests get 503, nothing is emitted unchecked. */
function unavailable(reason: string): DedupeCheck & RateLimit {
  return {
    checkAndRemember: () => Promise.reject(new StoreUnavailableError(reason)),
    take: () => Promise.reject(new StoreUnavailableError(reason)),
    peek: () => ({ ok: true }),
  };
}

/** The shared checks of a node whose `store` names a callback store config node (`found`); `noStore` says why when it is not deployed. */
export function storeChecks(found: FoundStore, nodeId: string, settings: ReceiveSettings, noStore: string): StoreChecks {
  if (!found.ok) return { dedupe: unavailable(noStore), rateLimit: unavailable(noStore), problem: noStore };
  const connection = found.store.agentCallbackStore();
  return {
    dedupe: new StoreDedupe(connection, connection.key("dedupe", nodeId, ""), settings.dedupeTtlMs),
    rateLimit: new StoreTokenBucket(connection, connection.key("rate", nodeId), settings.rateLimit),
    connection,
  };
}

/** With a store (the node's `store` property), dedupe and rate limit shared by every instance running the flow; undefined without. */
export function storeChecksFor(
  RED: NodeAPI,
  t: Translate,
  node: { id: string; error(text: string): void },
  store: unknown,
  settings: ReceiveSettings,
): StoreChecks | undefined {
  const id = storeId(store);
  if (id === undefined) return undefined;
  const shared = storeChecks(findStore(RED, id), node.id, settings, t("errors.no-store", { id }));
  if (shared.problem) node.error(shared.problem);
  return shared;
}
