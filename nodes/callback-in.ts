// "callback in": receives agent-loop callbacks (or a platform's events) on a POST endpoint and routes
// each accepted payload by status to one of three outputs (a platform's other events to a fourth).
// This file only wires Node-RED to lib/receive.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Node, NodeAPI, NodeDef, NodeMessage } from "./lib/shared/node-red-types";
import { CALLBACK_STATUSES, type CallbackPayload } from "./lib/shared/payload";
import { messagesFor, type Translate } from "./lib/shared/messages";
import { DedupeMemory } from "./lib/receive/dedupe";
import { Receiver, type ReceivedMessage } from "./lib/receive/receiver";
import { sharedChecks, type SharedChecks } from "./lib/receive/shared-checks";
import { findStore, storeId } from "./lib/store/store-node";
import { readSettings, type CallbackInConfig, type NumberProblemKey, type ReceiveSettings } from "./lib/receive/settings";
import { listenSettings, type ListenProperties, type ListenSettings } from "./lib/receive/listen";
import { openEndpoint, type Endpoint } from "./lib/receive/endpoint";
import { ReceiverStatus } from "./lib/receive/node-status";
import { lendExpress } from "./lib/receive/express-bridge";
import { forFlow } from "./lib/receive/flow-response";
import { ReceiveDeliveries } from "./lib/receive/receive-deliveries";
import { RequestLog } from "./lib/receive/request-log";
import { DELIVERIES_CHANGED_EVENT, type InDeliveries } from "./lib/shared/deliveries-api";
import { OTHER_OUTPUT, outputCount, type Source } from "./lib/receive/sources/source";
import { sourceFor } from "./lib/receive/sources";

/** apiKey: a platform's API key, to read results back; never logged, never in a msg. */
type Credentials = { secret?: string; apiKey?: string };
/** The deliveries sidebar (nodes/plugins/deliveries.ts) finds the node's logs here. */
type CallbackInNode = Node<Credentials> & { agentCallbackDeliveries?: InDeliveries };
type CallbackInDef = NodeDef & CallbackInConfig & ListenProperties & { store?: unknown };

/** What every callback in of this Node-RED shares. */
interface Context {
  RED: NodeAPI;
  t: Translate;
  /** Dedupe memories of nodes stopped by a deploy that did not remove them, by node id, until they start again. */
  keptDedupe: Map<string, DedupeMemory>;
  /** Request logs of nodes stopped by a deploy that did not remove them (memory only: a restart clears them). */
  keptLogs: Map<string, RequestLog>;
}

/** The node's settings; bad numbers are warned about and come back as the note the status keeps. */
function readAll(
  context: Context,
  node: CallbackInNode,
  def: CallbackInDef,
): ReturnType<typeof readSettings> & { listen: ListenSettings; numberNote: string } {
  const { t } = context;
  const reading = readSettings(def, node.credentials?.secret);
  const listen = listenSettings(def);
  const numberKey: NumberProblemKey = "invalid-number";
  const problems = listen.portProblem ? [...reading.problems, { ...listen.portProblem, key: numberKey }] : reading.problems;
  for (const problem of problems) node.warn(t(`warn.${problem.key}`, problem));
  return { ...reading, problems, listen, numberNote: problems.map((p) => t("status.invalid-number", p)).join(", ") };
}

/** With a store, dedupe and rate limit are shared by every instance running this flow. */
function sharedOf(context: Context, node: CallbackInNode, def: CallbackInDef, settings: ReceiveSettings): SharedChecks | undefined {
  const store = storeId(def.store);
  if (store === undefined) return undefined;
  const shared = sharedChecks(findStore(context.RED, store), node.id, settings, context.t("errors.no-store", { id: store }));
  if (shared.problem) node.error(shared.problem);
  return shared;
}

/** A redeploy (the node stopped, not removed) keeps the ids already seen, so a retry across the deploy is still a duplicate. */
function dedupeOf(context: Context, node: CallbackInNode, settings: ReceiveSettings): DedupeMemory {
  const dedupe = context.keptDedupe.get(node.id) ?? new DedupeMemory(settings.dedupeTtlMs);
  context.keptDedupe.delete(node.id);
  dedupe.ttlMs = settings.dedupeTtlMs;
  return dedupe;
}

/** A node that cannot check what it receives says so; one that checks nothing is warned about. */
function reportSecrets(t: Translate, node: CallbackInNode, settings: ReceiveSettings, invalidKeys: number, status: ReceiverStatus): void {
  if (invalidKeys > 0) {
    node.error(t("errors.bad-whsec", { count: invalidKeys }));
    status.problem("red", t("status.bad-whsec"));
  } else if (settings.verify !== "none" && settings.secrets.length === 0) {
    node.error(t("errors.no-secret"));
    status.problem("red", t("status.no-secret"));
  } else if (settings.verify === "none") {
    node.warn(t("warn.verify-none", { path: settings.url }));
  }
}

/** The msg for an accepted callback, built field by field (on Node.js 20 a spread into a literal costs microseconds). */
function messageOf(msgid: string, received: ReceivedMessage): NodeMessage {
  const msg: NodeMessage = { _msgid: msgid, payload: received.payload, topic: received.topic };
  if (received.event !== undefined) msg.event = received.event;
  if (received.fetchError !== undefined) msg.fetchError = received.fetchError;
  if (received.req !== undefined) msg.req = received.req;
  if (received.res !== undefined) msg.res = received.res;
  return msg;
}

/** The node's sender; a platform's results are read back only with an API key to read them with. */
function sourceOf(t: Translate, node: CallbackInNode, settings: ReceiveSettings): Source {
  const apiKey = node.credentials?.apiKey?.trim() ?? "";
  if (settings.fetchResult && apiKey === "") node.warn(t("warn.no-api-key"));
  return sourceFor(
    settings.source,
    settings.fetchResult && apiKey !== "" ? { apiKey, apiBase: settings.apiBase, options: { t } } : undefined,
  );
}

/** One log line for each result that could not be read back (the msg carries the same in msg.fetchError). */
function reportFetch(t: Translate, node: CallbackInNode, received: ReceivedMessage): void {
  if (received.fetchError === undefined) return;
  node.warn(t("warn.fetch-failed", { type: received.topic, id: received.payload.execution_id, detail: received.fetchError }));
}

function start(context: Context, node: CallbackInNode, def: CallbackInDef): void {
  const { RED, t } = context;
  const { settings, invalidKeys, listen, numberNote } = readAll(context, node, def);
  const shared = sharedOf(context, node, def, settings);
  const dedupe = dedupeOf(context, node, settings);
  const status = new ReceiverStatus({
    t,
    show: (s) => node.status(s),
    counts: () => deliveries.log.counts(),
    // A bad number stays visible next to the counts until the node is fixed.
    numberNote,
    // The sidebar plugin coalesces these again across nodes before it tells the editor.
    changed: () => RED.events?.emit(DELIVERIES_CHANGED_EVENT, node.id),
    warn: (text) => node.warn(text),
    log: (text) => node.log(text),
    ...(shared?.problem ? { storeDown: shared.problem } : {}),
  });
  const sendOn = (output: number, msg: NodeMessage): void => {
    const outputs: Array<NodeMessage | null> = new Array<NodeMessage | null>(outputCount(settings.source)).fill(null);
    outputs[output] = msg;
    node.send(outputs);
  };
  let where = settings.url;
  const deliveries = deliveriesOf(context, node, sendOn, () => where);
  const receiver = new Receiver({
    settings,
    dedupe: shared?.dedupe ?? dedupe,
    ...(shared ? { rateLimit: shared.rateLimit } : {}),
    requestLog: deliveries.log,
    source: sourceOf(t, node, settings),
    // On a port of its own the request is plain node:http; core http response needs Express's methods.
    ...(listen.mode === "port" ? { forFlow: (req, res, hidden) => forFlowOnOwnPort(RED, settings.url, req, res, hidden) } : {}),
    events: {
      onMessage: (output, received) => {
        reportFetch(t, node, received);
        sendOn(output, messageOf(RED.util.generateId(), received));
      },
      onCounts: () => status.countsChanged(),
      onFirstRejection: (cause, code) => node.warn(t("warn.rejected", { status: code, cause: t(`causes.${cause}`) })),
      onError: (err) => node.error(t("errors.unexpected", { detail: err instanceof Error ? err.message : String(err) })),
      onStoreUnavailable: (err) => {
        if (!status.isStoreDown) status.storeIsDown(err.message);
      },
    },
  });
  // The store's state in the status: down says why (requests are answered 503), back shows the counts.
  const stopWatching = shared?.connection?.onChange((state, error) => {
    if (state === "down") status.storeIsDown(error);
    else if (state === "ready") status.storeIsBack();
  });
  if (shared?.connection?.state === "down") status.storeIsDown(shared.connection.lastError);
  reportSecrets(t, node, settings, invalidKeys, status);
  const endpoint = endpointOf(context, node, listen, settings, receiver, status, (url) => (where = url));
  node.on("close", (removed: boolean, done: () => void) => {
    status.close();
    stopWatching?.();
    if (removed || !settings.dedupe) dedupe.clear();
    else context.keptDedupe.set(node.id, dedupe);
    if (!removed) context.keptLogs.set(node.id, deliveries.log);
    // The port must be free before the next deploy starts its nodes.
    void endpoint.close().then(done, done);
  });
}

/** The node's request log and its replay / simulate for the sidebar. */
function deliveriesOf(
  { RED, keptLogs }: Context,
  node: CallbackInNode,
  sendOn: (output: number, msg: NodeMessage) => void,
  where: () => string,
): ReceiveDeliveries {
  const kept = keptLogs.get(node.id);
  keptLogs.delete(node.id);
  // Replayed and simulated payloads: a copy each time, so a flow that changes msg.payload cannot change what is kept.
  const emit = (payload: CallbackPayload, extra: { replayed?: true; simulated?: true }): void => {
    const copy = RED.util.cloneMessage(payload);
    // A platform's event of a type the table does not route has no status: its output is the fourth.
    const output = CALLBACK_STATUSES.indexOf(copy.status);
    sendOn(output < 0 ? OTHER_OUTPUT : output, {
      _msgid: RED.util.generateId(),
      payload: copy,
      topic: copy.agent_loop_name ?? "",
      ...extra,
    });
  };
  const deliveries = new ReceiveDeliveries(where, emit, kept ?? new RequestLog());
  node.agentCallbackDeliveries = deliveries;
  return deliveries;
}

/** msg.req/msg.res on a port of its own: the plain node:http pair made Express's first (lendExpress). */
function forFlowOnOwnPort(
  RED: NodeAPI,
  path: string,
  req: IncomingMessage,
  res: ServerResponse,
  hiddenHeaders: readonly string[],
): ReturnType<typeof forFlow> {
  lendExpress(RED.httpNode, req, res, path);
  return forFlow(req, res, hiddenHeaders);
}

function endpointOf(
  context: Context,
  node: CallbackInNode,
  listen: ListenSettings,
  settings: ReceiveSettings,
  receiver: Receiver,
  status: ReceiverStatus,
  listeningAt: (url: string) => void,
): Endpoint {
  return openEndpoint(context.RED, {
    listen,
    path: settings.url,
    ownerId: node.id,
    handler: (req, res) => receiver.handle(req, res),
    t: context.t,
    onListening: (url, text) => {
      listeningAt(url);
      status.listening(text);
    },
    onProblem: (problem) => {
      if (problem.level === "error") node.error(problem.message);
      else node.warn(problem.message);
      status.problem(problem.fill, problem.status);
    },
    onRouteError: (err) => node.warn(err instanceof Error ? err.message : String(err)),
  });
}

export = function (RED: NodeAPI): void {
  const context: Context = {
    RED,
    t: messagesFor((key, substitutions) => RED._(key, substitutions), "agent-callback-in", "callback-in"),
    keptDedupe: new Map(),
    keptLogs: new Map(),
  };
  function CallbackInNode(this: CallbackInNode, def: CallbackInDef): void {
    RED.nodes.createNode(this, def);
    start(context, this, def);
  }
  RED.nodes.registerType("agent-callback-in", CallbackInNode, {
    credentials: { secret: { type: "password" }, apiKey: { type: "password" } },
  });
};
