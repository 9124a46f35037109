// callback out's properties about where callbacks may go and how they get there: allowedOrigins
// (for msg.url), the core "http proxy" and "tls-config" config nodes. Read once when the node
// starts; an error names the field and the fix.
// Pure: the config-node lookup and the message texts are passed in, so it runs without Node-RED.
import { readAllowedOrigins, type OriginPolicy } from "./origins";
import {
  proxyFromConfigNode,
  proxyRoutes,
  tlsFromConfigNode,
  type NetworkSettings,
  type ProxyConfigNode,
  type TlsConfigNode,
} from "./network";
import type { MessageText } from "./request-headers";
import { text } from "../shared/config-values";

/** The properties read here, as they appear in flows.json. */
export interface ReachConfig {
  allowedOrigins?: unknown;
  /** Id of a core "http proxy" config node, or "" / absent for the environment's proxy. */
  proxy?: unknown;
  /** Id of a core "tls-config" config node, or "" / absent. */
  tls?: unknown;
}

export interface Reach {
  origins: OriginPolicy;
  network: NetworkSettings;
  /** Things the user chose that weaken security (verification off), for the log. */
  warnings: string[];
}

function isTlsConfigNode(node: unknown): node is TlsConfigNode {
  return typeof node === "object" && node !== null && typeof (node as { addTLSOptions?: unknown }).addTLSOptions === "function";
}

/**
 * Reads allowedOrigins, proxy and tls; `getNode` is RED.nodes.getNode, `env` the process
 * environment (its proxy variables are checked here, at deploy). Throws naming the field.
 */
export function readReach(
  config: ReachConfig,
  getNode: (id: string) => unknown,
  env: Readonly<Record<string, string | undefined>>,
  message: MessageText,
): Reach {
  const origins = readAllowedOrigins(config.allowedOrigins, message);
  const network: NetworkSettings = {};
  const warnings: string[] = [];

  const proxyId = text(config.proxy).trim();
  if (proxyId !== "") {
    const node = getNode(proxyId);
    if (typeof node !== "object" || node === null) throw new Error(message("errors.proxy-missing", { id: proxyId }));
    network.proxy = proxyFromConfigNode(node as ProxyConfigNode, message);
  }

  const tlsId = text(config.tls).trim();
  if (tlsId !== "") {
    const node = getNode(tlsId);
    if (!isTlsConfigNode(node)) throw new Error(message("errors.tls-missing", { id: tlsId }));
    network.tls = tlsFromConfigNode(node, tlsId, message);
    if (network.tls.rejectUnauthorized === false) warnings.push(message("errors.tls-unverified"));
  }
  proxyRoutes(network, env, message);
  return { origins, network, warnings };
}
