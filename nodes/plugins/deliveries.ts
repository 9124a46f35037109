// The runtime half of the "agent callbacks" sidebar (the editor half is deliveries.html beside
// it): admin routes that read and act on what each deployed callback in / callback out node keeps
// (its `agentCallbackDeliveries`), and one comms topic telling editors which nodes changed,
// coalesced so that a flood of callbacks costs the browser at most two pushes a second.
import path from "node:path";
import type { Request, RequestHandler, Response } from "express";
import type { Node, NodeAPI } from "../lib/shared/node-red-types";
import {
  DELIVERIES_CHANGED_EVENT,
  type InDeliveries,
  type NodeDeliveries,
  type OutDeliveries,
  type Selection,
  type ActionResult,
} from "../lib/shared/deliveries-api";
import { checkRequestId, checkSelection } from "../lib/shared/action-body";
import { isSimulatedStatus } from "../lib/receive/simulate";
import { readJsonFile } from "../lib/shared/json-file";
import { lookup, type Substitutions } from "../lib/shared/messages";
import { registerMetricsRoute } from "./metrics-route";

const PLUGIN_ID = "agent-callback-deliveries";
/** The comms topic the editor subscribes to. */
const TOPIC = "agent-callback/deliveries";
const PUSH_EVERY_MS = 500;
const TYPES = { in: "agent-callback-in", out: "agent-callback-out" } as const;

type Kind = keyof typeof TYPES;

interface PluginAPI extends NodeAPI {
  plugins: { registerPlugin(id: string, definition: Record<string, unknown>): void };
  nodes: NodeAPI["nodes"] & {
    eachNode(callback: (node: { id: string; type: string; name?: string; z?: string; url?: unknown }) => void): void;
  };
}

type WithDeliveries = Node & { agentCallbackDeliveries?: NodeDeliveries; z?: string };

interface NodeSummary {
  id: string;
  type: string;
  kind: Kind;
  name: string;
  /** The flow (tab or subflow) the node is on. */
  z: string;
  /** Where it receives (callback in: the path as served, or its own port's URL) or sends (callback out: its URL, "" for msg.url). */
  where: string;
}

type Translate = (key: string, substitutions?: Substitutions) => string;
type DeliveriesOf<K extends Kind> = K extends "in" ? InDeliveries : OutDeliveries;
type WithNode = <K extends Kind>(
  kind: K,
  handle: (found: DeliveriesOf<K>, req: Request, res: Response) => Promise<void> | void,
) => RequestHandler;

export = function register(RED: PluginAPI): void {
  const t = translator(RED);
  RED.plugins.registerPlugin(PLUGIN_ID, { type: "agent-callback-sidebar" });
  pushChanges(RED);
  const read = RED.auth.needsPermission("agent-callback.read");
  const write = RED.auth.needsPermission("agent-callback.write");
  const withNode = nodeHandlers(RED, t);
  RED.httpAdmin.get("/agent-callback/nodes", read, (_req, res) => void res.json({ nodes: deployedNodes(RED) }));
  outRoutes(RED, withNode, t, { read, write });
  inRoutes(RED, withNode, t, { read, write });
  registerMetricsRoute(RED);
};

/** The runtime's translation of a message of this plugin, else the English catalog's. */
function translator(RED: PluginAPI): Translate {
  const english = readJsonFile(path.join(__dirname, "locales", "en-US", "deliveries.json"));
  return (key, substitutions) => {
    const translated = RED._(`deliveries.${key}`, substitutions);
    return translated.endsWith(`deliveries.${key}`) ? (lookup(english, `deliveries.${key}`, substitutions) ?? key) : translated;
  };
}

/** Tells editors which nodes changed, at most every PUSH_EVERY_MS, and that a deploy changed the list. */
function pushChanges(RED: PluginAPI): void {
  const changed = new Set<string>();
  let pushTimer: NodeJS.Timeout | undefined;
  const push = (): void => {
    pushTimer = undefined;
    const ids = [...changed];
    changed.clear();
    RED.comms?.publish(TOPIC, { ids }, false);
  };
  RED.events?.on(DELIVERIES_CHANGED_EVENT, (id: unknown) => {
    if (typeof id !== "string") return;
    changed.add(id);
    pushTimer ??= setTimeout(push, PUSH_EVERY_MS);
  });
  RED.events?.on("flows:started", () => RED.comms?.publish(TOPIC, { ids: [], nodes: true }, false));
}

/** Whether node `id` is a running node of `kind`, and its deliveries once it has them (callback out: once its outbox is open). */
function deployed(RED: PluginAPI, kind: Kind, id: string): { deliveries: NodeDeliveries | undefined } | undefined {
  const node = RED.nodes.getNode(id) as WithDeliveries | null;
  if (node?.type !== TYPES[kind]) return undefined;
  const found = node.agentCallbackDeliveries;
  return { deliveries: found?.kind === kind ? found : undefined };
}

function deployedNodes(RED: PluginAPI): NodeSummary[] {
  const nodes: NodeSummary[] = [];
  RED.nodes.eachNode((def) => {
    const kind: Kind | undefined = def.type === TYPES.in ? "in" : def.type === TYPES.out ? "out" : undefined;
    const found = kind ? deployed(RED, kind, def.id) : undefined;
    if (!kind || !found) return;
    const where = found.deliveries?.kind === "in" ? found.deliveries.view().url : shownUrl(def.url);
    nodes.push({ id: def.id, type: def.type, kind, name: def.name ?? "", z: def.z ?? "", where });
  });
  return nodes;
}

/** callback out's URL as the tab names it: scheme, host and path, without a user, password, query or fragment. */
function shownUrl(url: unknown): string {
  if (typeof url !== "string" || url.trim() === "") return "";
  try {
    const parsed = new URL(url.trim());
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return "";
  }
}

/** Route handlers that find node :id of a kind or answer 404 (503 while it opens), and answer 500 with the cause if they throw. */
function nodeHandlers(RED: PluginAPI, t: Translate): WithNode {
  return (kind, handle) => (req, res) => {
    const id = String(req.params.id ?? "");
    const node = deployed(RED, kind, id);
    if (!node) {
      res.status(404).json({ error: t("errors.unknown-node", { kind: TYPES[kind], id }) });
      return;
    }
    const found = node.deliveries;
    if (!found) {
      res.status(503).json({ error: t("errors.not-ready", { id }) });
      return;
    }
    Promise.resolve()
      .then(() => handle(found as DeliveriesOf<typeof kind>, req, res))
      .catch((err: unknown) =>
        res.status(500).json({ error: t("errors.action-failed", { error: err instanceof Error ? err.message : String(err) }) }),
      );
  };
}

function badBody(t: Translate, res: Response, field: string, problem: string): void {
  res.status(400).json({ error: t("errors.bad-body", { field, expected: t(`errors.expected.${problem}`) }), field });
}

interface Permissions {
  read: RequestHandler;
  write: RequestHandler;
}

/** callback out: its view, and retry / cancel / resend on a selection of its callbacks. */
function outRoutes(RED: PluginAPI, withNode: WithNode, t: Translate, { read, write }: Permissions): void {
  RED.httpAdmin.get(
    "/agent-callback/out/:id",
    read,
    withNode("out", async (found, _req, res) => void res.json(await found.view())),
  );
  // One callback opened: its body and kept attempts (no header is kept, so none can show).
  RED.httpAdmin.get(
    "/agent-callback/out/:id/callback/:entry",
    read,
    withNode("out", async (found, req, res) => {
      const entry = String(req.params.entry ?? "");
      const detail = await found.detail(entry);
      if (detail) res.json(detail);
      else res.status(404).json({ error: t("errors.unknown-callback", { id: entry }) });
    }),
  );
  const actions: Array<{ name: "retry" | "cancel" | "resend"; allowAll: boolean }> = [
    { name: "retry", allowAll: true },
    { name: "cancel", allowAll: false },
    { name: "resend", allowAll: true },
  ];
  for (const { name, allowAll } of actions) {
    RED.httpAdmin.post(
      `/agent-callback/out/:id/${name}`,
      write,
      withNode("out", async (found, req, res) => {
        const checked = checkSelection(req.body, allowAll);
        if (!checked.ok) return badBody(t, res, checked.field, checked.problem);
        const selection: Selection = checked.value;
        const result: ActionResult = await found[name](selection);
        res.json(result);
      }),
    );
  }
}

/** callback in: its view, replay of an accepted request, and simulate. */
function inRoutes(RED: PluginAPI, withNode: WithNode, t: Translate, { read, write }: Permissions): void {
  RED.httpAdmin.get(
    "/agent-callback/in/:id",
    read,
    withNode("in", (found, _req, res) => void res.json(found.view())),
  );
  // One request opened: its headers (no secret value) and the body that arrived.
  RED.httpAdmin.get(
    "/agent-callback/in/:id/request/:request",
    read,
    withNode("in", (found, req, res) => {
      const shown = found.request(Number(req.params.request));
      if (shown) return void res.json(shown);
      res.status(404).json({ error: t("errors.unknown-request", { id: String(req.params.request), node: String(req.params.id) }) });
    }),
  );
  RED.httpAdmin.post(
    "/agent-callback/in/:id/replay",
    write,
    withNode("in", (found, req, res) => {
      const checked = checkRequestId(req.body);
      if (!checked.ok) return badBody(t, res, checked.field, checked.problem);
      const replayed = found.replay(checked.value);
      if (replayed.ok) return void res.json({ executionId: replayed.executionId, output: replayed.output });
      if (replayed.reason === "unknown")
        return void res.status(404).json({ error: t("errors.unknown-request", { id: checked.value, node: String(req.params.id) }) });
      res.status(409).json({ error: t("errors.not-replayable", { id: checked.value }) });
    }),
  );
  RED.httpAdmin.post(
    "/agent-callback/in/:id/simulate",
    write,
    withNode("in", (found, req, res) => {
      const status: unknown = (req.body as { status?: unknown } | undefined)?.status;
      if (!isSimulatedStatus(status)) return badBody(t, res, "status", "status");
      res.json(found.simulate(status));
    }),
  );
}
