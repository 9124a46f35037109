// What the "callback store" config node offers the nodes that use it, and how they find it.
import type { NodeAPI } from "../shared/node-red-types";
import type { StoreConnection } from "./connection";

export const STORE_NODE_TYPE = "agent-callback-store";
export const DEFAULT_PREFIX = "agent-callback:";

/** The running config node, as callback in and callback out see it. */
export interface StoreNode {
  type: string;
  /** The config node's one connection, opened on the first call. */
  agentCallbackStore(): StoreConnection;
}

export type FoundStore = { ok: true; store: StoreNode } | { ok: false };

/** The config node with id `id`, when it is deployed and is a callback store. */
export function findStore(RED: NodeAPI, id: string): FoundStore {
  const node = RED.nodes.getNode(id) as (StoreNode & object) | null;
  if (!node || node.type !== STORE_NODE_TYPE || typeof node.agentCallbackStore !== "function") return { ok: false };
  return { ok: true, store: node };
}

/** The `store` property of a node: the config node's id, or undefined when none is set. */
export function storeId(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() !== "" && value !== "_ADD_" ? value.trim() : undefined;
}
