// "callback in": receives agent-loop callbacks (or a platform's events) on a POST endpoint and routes
// each accepted payload by status to one of three outputs (a platform's other events to a fourth).
// This file only wires Node-RED to lib/receive.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Node, NodeAPI, NodeDef, NodeMessage } from "./lib/shared/node-red-types";
import { messagesFor, type Translate } from "./lib/shared/messages";
import { DedupeMemory } from "./lib/receive/dedupe";
import { Receiver } from "./lib/receive/receiver";
import { storeChecksFor } from "./lib/receive/store-checks";
import { readSettings, type CallbackInConfig, type NumberProblemKey, type ReceiveSettings } from "./lib/receive/settings";
import { listenSettings, type ListenProperties, type ListenSettings } from "./lib/receive/listen";
import { openNodeEndpoint } from "./lib/receive/endpoint";
import { ReceiverStatus } from "./lib/receive/node-status";
import { forFlowOnOwnPort } from "./lib/receive/flow-response";
import { ReceiveSidebar, type EmitReading } from "./lib/receive/receive-sidebar";
import { RequestLog } from "./lib/receive/request-log";
import { dropSeries, inMetrics, type InMetrics } from "./lib/metrics/registry";
import { DELIVERIES_CHANGED_EVENT, type InDeliveries, type SimulatedStatus } from "./lib/shared/deliveries-api";
import { outputCount } from "./lib/receive/sources/source";
import { sourceWithKey } from "./lib/receive/sources";
import { messageOf, onOutput } from "./lib/receive/node-msgs";
import { simulatedReading } from "./lib/receive/simulate";
import type { Reading } from "./lib/receive/sources/source";
import { reportFetch, reportSecrets } from "./lib/receive/node-reports";

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

/** A redeploy (the node stopped, not removed) keeps the ids already seen, so a retry across the deploy is still a duplicate. */
function dedupeOf(context: Context, node: CallbackInNode, settings: ReceiveSettings): DedupeMemory {
  const dedupe = context.keptDedupe.get(node.id) ?? new DedupeMemory(settings.dedupeTtlMs);
  context.keptDedupe.delete(node.id);
  dedupe.ttlMs = settings.dedupeTtlMs;
  return dedupe;
}

/** The node's Prometheus series; a node removed by a deploy drops them. */
function metricsOf(node: CallbackInNode): InMetrics {
  node.on("close", (removed: boolean, done: () => void) => {
    if (removed) dropSeries(node.id);
    done();
  });
  return inMetrics(node.id, node.name ?? "");
}

function start(context: Context, node: CallbackInNode, def: CallbackInDef): void {
  const { RED, t } = context;
  const { settings, invalidKeys, listen, numberNote } = readAll(context, node, def);
  const shared = storeChecksFor(RED, t, node, def.store, settings);
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
  const sendOn = (output: number, msg: NodeMessage): void => node.send(onOutput(outputCount(settings.source), output, msg));
  const metrics = metricsOf(node);
  let where = settings.url;
  const deliveries = deliveriesOf(
    context,
    node,
    () => receiver,
    settings,
    () => where,
  );
  const receiver = new Receiver({
    settings,
    dedupe: shared?.dedupe ?? dedupe,
    ...(shared ? { rateLimit: shared.rateLimit } : {}),
    requestLog: deliveries.log,
    source: sourceWithKey(settings, node.credentials?.apiKey?.trim() ?? "", () => node.warn(t("warn.no-api-key")), t),
    // On a port of its own the request is plain node:http; core http response needs Express's methods.
    ...(listen.mode === "port" ? { forFlow: (req, res, hidden) => forFlowOnOwnPort(RED, settings.url, req, res, hidden) } : {}),
    events: {
      onMessage: (output, received) => {
        reportFetch(t, node, received);
        sendOn(output, messageOf(RED.util.generateId(), received));
        // Replayed and simulated msgs are not callbacks received: not counted.
        if (!received.replayed && !received.simulated) metrics.emitted(output);
      },
      onCounts: () => status.countsChanged(),
      onOutcome: (outcome) => metrics.request(outcome),
      onFirstRejection: (cause, code) => node.warn(t("warn.rejected", { status: code, cause: t(`causes.${cause}`) })),
      onError: (err) => node.error(t("errors.unexpected", { detail: err instanceof Error ? err.message : String(err) })),
      onStoreUnavailable: (err) => {
        if (!status.isStoreDown) status.storeIsDown(err.message);
      },
    },
  });
  const stopWatching = shared?.connection ? status.watch(shared.connection) : undefined;
  reportSecrets(t, node, settings, invalidKeys, status);
  const handler = (req: IncomingMessage, res: ServerResponse): void => receiver.handle(req, res);
  const endpoint = openNodeEndpoint(RED, t, node, { listen, path: settings.url, handler }, status, (url) => (where = url));
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

/** A copy of a kept reading each time it is sent, so a flow that changes msg.payload or msg.event cannot change what is kept. */
function copied(RED: NodeAPI, reading: Reading): Reading {
  const copy: Reading = { ...reading, payload: RED.util.cloneMessage(reading.payload) };
  if (reading.event !== undefined) copy.event = RED.util.cloneMessage(reading.event);
  return copy;
}

/** The node's request log and its replay / simulate for the sidebar. */
function deliveriesOf(
  { RED, keptLogs }: Context,
  node: CallbackInNode,
  receiver: () => Receiver,
  settings: Pick<ReceiveSettings, "source" | "secretHeader">,
  where: () => string,
): ReceiveSidebar {
  const kept = keptLogs.get(node.id);
  keptLogs.delete(node.id);
  // Through the receiver, as a request would go (a replayed platform event's result is read back again).
  const emit: EmitReading = (reading, mark) => receiver().emitAgain(copied(RED, reading), mark);
  const sample = (status: SimulatedStatus): Reading => simulatedReading(settings.source, status);
  const deliveries = new ReceiveSidebar(where, emit, sample, kept ?? new RequestLog(), [settings.secretHeader]);
  node.agentCallbackDeliveries = deliveries;
  return deliveries;
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
