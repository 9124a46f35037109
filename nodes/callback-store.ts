// "callback store": the optional shared store (Redis or Valkey) of callback in and callback out,
// for several Node-RED instances running the same flows. One connection per config node, opened
// when a node first uses it, shared by those nodes and closed when the config node stops.
import type { ConnectionOptions } from "node:tls";
import type { Node, NodeAPI, NodeDef } from "./lib/shared/node-red-types";
import { StoreConnection } from "./lib/store/connection";
import { DEFAULT_PREFIX } from "./lib/store/store-node";
import { messagesFor } from "./lib/shared/messages";

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

export = function (RED: NodeAPI): void {
  const t = messagesFor((key, substitutions) => RED._(key, substitutions), "agent-callback-store", "callback-store");

  function CallbackStoreNode(this: Node<Credentials> & { agentCallbackStore?: () => StoreConnection }, def: StoreDef): void {
    RED.nodes.createNode(this, def);
    const url = typeof def.url === "string" && def.url.trim() !== "" ? def.url.trim() : "redis://127.0.0.1:6379";
    const prefix = typeof def.prefix === "string" ? def.prefix : DEFAULT_PREFIX;
    let tls: ConnectionOptions | undefined;
    if (typeof def.tls === "string" && def.tls !== "") {
      const tlsNode = RED.nodes.getNode(def.tls) as (TlsConfigNode & object) | null;
      if (tlsNode && typeof tlsNode.addTLSOptions === "function") {
        const options: Record<string, unknown> = {};
        tlsNode.addTLSOptions(options);
        tls = options as ConnectionOptions;
      } else {
        this.error(t("errors.no-tls", { id: def.tls }));
      }
    }
    if (!/^rediss?:\/\//.test(url)) this.error(t("errors.bad-url", { url }));
    const credentials = this.credentials ?? {};
    let connection: StoreConnection | undefined;
    this.agentCallbackStore = (): StoreConnection => {
      connection ??= new StoreConnection({ url, prefix, username: credentials.username, password: credentials.password, tls });
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
