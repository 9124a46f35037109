// The "callback out" node: wires Node-RED to the Sender (lib/send/sender.ts), which formats,
// journals, delivers and retries. Here: settings, node status, the outputs, the log, and the
// editor's "send test" endpoint.
import { readSettings, type CallbackOutConfig, type CallbackOutSettings } from "./lib/send/settings";
import { dropSeries, outMetrics } from "./lib/metrics/registry";
import { Sender } from "./lib/send/sender";
import { DeliveryLog } from "./lib/send/delivery-log";
import type { CallbackCredentials } from "./lib/send/request-headers";
import type { Node, NodeAPI, NodeDef } from "./lib/shared/node-red-types";
import { messagesFor, type Translate } from "./lib/shared/messages";
import { DELIVERIES_CHANGED_EVENT, type OutDeliveries } from "./lib/shared/deliveries-api";
import type { StoreOutboxLink } from "./lib/send/types";
import { storeOutboxFor } from "./lib/send/store-link";
import { USER_AGENT } from "./lib/send/user-agent";
import { bodyMemoryBytes, DEFAULT_BODY_MEMORY_MB } from "./lib/send/body-memory";
import { outboxFiles } from "./lib/send/file-backend";

interface CallbackOutDef extends NodeDef, CallbackOutConfig {
  store?: unknown;
  leaseSeconds?: unknown;
}

type CallbackOutNode = Node<CallbackCredentials> & {
  agentCallbackSender?: Sender;
  agentCallbackConfigError?: string;
  /** For the deliveries sidebar (nodes/plugins/deliveries.ts). */
  readonly agentCallbackDeliveries?: OutDeliveries | undefined;
};

/** The settings, or undefined after reporting the configuration error; bad numbers are warned about and shown. */
function settingsOf(RED: NodeAPI, t: Translate, node: CallbackOutNode, def: CallbackOutDef): CallbackOutSettings | undefined {
  // ${NAME} in a header value: the flow's or the process's environment, as Node-RED resolves it.
  const env = (name: string): string => {
    const value = (RED.util.getSetting ? RED.util.getSetting(node, name) : undefined) ?? process.env[name];
    if (value === undefined) node.warn(t("errors.missing-env", { name }));
    return value === undefined ? "" : String(value);
  };
  try {
    const settings = readSettings(def, {
      hasSigningKey: Boolean(node.credentials?.signingKey),
      signingKey: node.credentials?.signingKey,
      env,
      message: t,
      credentials: node.credentials ?? {},
      getNode: (id) => RED.nodes.getNode(id),
      proxyEnv: process.env,
      node: { id: node.id, name: def.name },
    });
    for (const warning of settings.warnings) node.warn(warning);
    for (const problem of settings.problems) node.warn(t("errors.bad-number", { ...problem }));
    if (settings.problems[0]) node.status({ fill: "yellow", shape: "ring", text: t("status.bad-number", { ...settings.problems[0] }) });
    return settings;
  } catch (err) {
    node.agentCallbackConfigError = err instanceof Error ? err.message : String(err);
    node.error(node.agentCallbackConfigError);
    node.status({ fill: "red", shape: "ring", text: t("status.config-error") });
    return undefined;
  }
}

function senderFor(
  RED: NodeAPI,
  t: Translate,
  node: CallbackOutNode,
  settings: CallbackOutSettings,
  deliveryLog: DeliveryLog,
  shared?: StoreOutboxLink,
): Sender {
  const sender: Sender = new Sender({
    settings,
    credentials: node.credentials ?? {},
    userAgent: USER_AGENT,
    nodeId: node.id,
    ...outboxFiles(RED.settings.userDir, node.id),
    bodyMemoryBytes: bodyMemoryBytes(RED, t),
    t,
    log: { info: (text) => node.log(text), warn: (text) => node.warn(text), error: (text) => node.error(text) },
    onOutcome: (finish, msg) => node.send(finish === "delivered" ? [msg, null] : [null, msg]),
    onStatus: (status) => {
      node.status(status);
      // Status updates are already coalesced; the sidebar plugin coalesces these again across nodes.
      RED.events?.emit(DELIVERIES_CHANGED_EVENT, node.id);
    },
    // Node-RED keeps the wires on the node; unknown wires count as wired.
    wantsDelivered: () => node.wires === undefined || (node.wires[0]?.length ?? 0) > 0,
    deliveryLog,
    ...(shared ? { shared } : {}),
    metrics: outMetrics(node.id, node.name ?? "", { waiting: () => sender.pending, paused: () => sender.paused }),
  });
  return sender;
}

export = function register(RED: NodeAPI): void {
  const t = messagesFor((key, substitutions) => RED._(key, substitutions), "agent-callback-out", "callback-out");
  /** Delivery logs of nodes stopped by a deploy that did not remove them, by node id, until they start again (memory only). */
  const keptLogs = new Map<string, DeliveryLog>();

  function CallbackOutNode(this: CallbackOutNode, def: CallbackOutDef): void {
    RED.nodes.createNode(this, def);
    const node = this; // eslint-disable-line @typescript-eslint/no-this-alias -- the handlers below need the node
    const settings = settingsOf(RED, t, node, def);
    const shared = settings ? storeOutboxFor(RED, t, node, def, settings.timeoutMs) : undefined;
    if (shared instanceof Error) {
      node.agentCallbackConfigError = shared.message;
      node.error(shared.message);
      node.status({ fill: "red", shape: "ring", text: t("status.config-error") });
    }
    const deliveryLog = keptLogs.get(node.id) ?? new DeliveryLog();
    keptLogs.delete(node.id);
    const sender = settings && !(shared instanceof Error) ? senderFor(RED, t, node, settings, deliveryLog, shared) : undefined;
    node.agentCallbackSender = sender;
    Object.defineProperty(node, "agentCallbackDeliveries", { get: () => sender?.sidebar });
    void sender?.start();

    node.on("input", (msg, _send, done) => {
      // done() makes Node-RED copy the msg for Complete and Catch nodes, which throws for a msg it
      // cannot clone: that is reported, never an unhandled rejection that stops Node-RED.
      const report = (err?: Error): void => {
        try {
          done(err);
        } catch (thrown) {
          node.error(t("errors.done-failed", { error: thrown instanceof Error ? thrown.message : String(thrown) }));
          if (err) node.error(err.message);
        }
      };
      if (!sender) return report(new Error(node.agentCallbackConfigError ?? t("status.config-error")));
      sender.accept(msg).then(
        () => report(),
        (err: unknown) => report(err instanceof Error ? err : new Error(String(err))),
      );
    });

    node.on("close", (removed, done) => {
      if (!removed) keptLogs.set(node.id, deliveryLog);
      else dropSeries(node.id);
      if (!sender) return done();
      void sender.close(removed).finally(done);
    });
  }

  RED.nodes.registerType("agent-callback-out", CallbackOutNode, {
    credentials: { secret: { type: "password" }, token: { type: "password" }, signingKey: { type: "password" } },
    // settings.js: how many MB of queued bodies each node keeps in memory; past that, bodies are
    // read back from the outbox on disk when their turn comes (0: always from disk).
    settings: { agentCallbackOutBodyMemoryMB: { value: DEFAULT_BODY_MEMORY_MB, exportable: false } },
  });

  RED.httpAdmin.post("/agent-callback-out/:id/test", RED.auth.needsPermission("agent-callback-out.write"), (req, res) => {
    const found = RED.nodes.getNode(req.params.id ?? "") as CallbackOutNode | null;
    if (!found || found.type !== "agent-callback-out") {
      res.status(404).json({ error: t("errors.test-not-deployed") });
      return;
    }
    const test = found.agentCallbackSender
      ? found.agentCallbackSender.sendTest()
      : Promise.reject(new Error(found.agentCallbackConfigError ?? t("status.config-error")));
    test.then(
      (reply) => res.status(200).json(reply),
      (err: unknown) => res.status(400).json({ error: err instanceof Error ? err.message : String(err) }),
    );
  });
};
