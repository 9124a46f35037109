// "callback store": the optional shared store (Redis or Valkey) of callback in and callback out,
// for several Node-RED instances running the same flows. One connection per config node, opened
// when a node first uses it, shared by those nodes and closed when the config node stops.
import type { ConnectionOptions } from "node:tls";
import type { Node, NodeAPI, NodeDef } from "./lib/shared/node-red-types";
import { StoreConnection } from "./lib/store/connection";
import { DEFAULT_PREFIX } from "./lib/store/store-node";
import { storeProblem } from "./lib/store/problems";
import { redactUrl } from "./lib/shared/redact-url";
import { messagesFor, type Translate } from "./lib/shared/messages";

interface StoreDef extends NodeDef {
  url?: string;
  prefix?: string;
  tls?: string;
}

type Credentials = { username?: string; password?: string };

interface TlsConfigNode {
  valid?: boolean;
  addTLSOptions(options: Record<string, unknown>): void;
}

/**
 * The TLS options of the tls-config node `id`, or why the store must not connect (a setting to fix);
 * `warn` when they do not verify the server's certificate (the user's choice, said as callback out says it).
 */
function tlsOptions(
  RED: NodeAPI,
  t: Translate,
  url: string,
  id: string | undefined,
): { tls?: ConnectionOptions; refuse?: string; warn?: string } {
  if (!/^rediss?:\/\/\S+$/.test(url)) return { refuse: t("errors.bad-url", { url: redactUrl(url) }) };
  try {
    new URL(url);
  } catch {
    return { refuse: t("errors.bad-url", { url: redactUrl(url) }) };
  }
  if (id === undefined) return {};
  // A user who chose a TLS configuration means TLS: never connect in plain text instead.
  if (url.startsWith("redis:")) return { refuse: t("errors.tls-plain", { url: redactUrl(url) }) };
  const tlsNode = RED.nodes.getNode(id) as (TlsConfigNode & object) | null;
  if (!tlsNode || typeof tlsNode.addTLSOptions !== "function") return { refuse: t("errors.no-tls", { id }) };
  if (tlsNode.valid === false) return { refuse: t("errors.tls-invalid", { id }) };
  const options: Record<string, unknown> = {};
  tlsNode.addTLSOptions(options);
  const tls = options as ConnectionOptions;
  return tls.rejectUnauthorized === false ? { tls, warn: t("errors.tls-unverified") } : { tls };
}

export = function (RED: NodeAPI): void {
  const t = messagesFor((key, substitutions) => RED._(key, substitutions), "agent-callback-store", "callback-store");
  const explain = (err: Error): string | undefined => {
    const problem = storeProblem(err);
    return problem ? t(`errors.${problem}`, { error: err.message }) : undefined;
  };

  function CallbackStoreNode(this: Node<Credentials> & { agentCallbackStore?: () => StoreConnection }, def: StoreDef): void {
    RED.nodes.createNode(this, def);
    const url = typeof def.url === "string" && def.url.trim() !== "" ? def.url.trim() : "redis://127.0.0.1:6379";
    const prefix = typeof def.prefix === "string" ? def.prefix : DEFAULT_PREFIX;
    const { tls, refuse, warn } = tlsOptions(RED, t, url, typeof def.tls === "string" && def.tls !== "" ? def.tls : undefined);
    if (refuse !== undefined) this.error(refuse);
    if (warn !== undefined) this.warn(warn);
    const credentials = this.credentials ?? {};
    let connection: StoreConnection | undefined;
    this.agentCallbackStore = (): StoreConnection => {
      connection ??= new StoreConnection({
        url,
        prefix,
        username: credentials.username,
        password: credentials.password,
        tls,
        refuse,
        explain,
      });
      return connection;
    };
    this.on("close", (_removed: boolean, done: () => void) => {
      const closing = connection;
      connection = undefined;
      if (!closing) return done();
      closing.close().then(done, done);
    });
  }

  RED.nodes.registerType("agent-callback-store", CallbackStoreNode, {
    credentials: { username: { type: "text" }, password: { type: "password" } },
  });
};
