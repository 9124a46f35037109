// Flows for real Node-RED children used by the reliability suite and the bench, built from core
// nodes, ours and two harness nodes (harness-nodes/), and deployed through the admin API (the way
// the editor does it, which is also how credentials reach the runtime without appearing in flows.json).
import path from "node:path";
import type { CallbackPayload } from "../../../nodes/lib/shared/payload";
import type { NodeRedProcessOptions } from "../../support/node-red";

export type FlowNode = { id: string; type: string; z?: string; wires?: string[][] } & Record<string, unknown>;

const TAB = "reliability-tab";
const tab: FlowNode = { id: TAB, type: "tab", label: "bench and reliability" };

let y = 40;
function at(): { x: number; y: number } {
  y += 40;
  return { x: 200, y };
}

function fn(id: string, func: string, outputs: number, wires: string[][]): FlowNode {
  return {
    id,
    type: "function",
    z: TAB,
    name: id,
    func,
    outputs,
    timeout: 0,
    noerr: 0,
    initialize: "",
    finalize: "",
    libs: [],
    ...at(),
    wires,
  };
}

function httpIn(id: string, url: string, method: string, wires: string[][]): FlowNode {
  return { id, type: "http in", z: TAB, name: "", url, method, upload: false, swaggerDoc: "", ...at(), wires };
}

function httpResponse(id: string): FlowNode {
  return { id, type: "http response", z: TAB, name: "", statusCode: "", headers: {}, ...at(), wires: [] };
}

/**
 * What users build without the plugin: http in -> function (secret check, required fields) ->
 * switch on status -> change -> http response; rejects go from the function straight to the response.
 */
/** A core change node with `rules`. */
function changeNode(id: string, name: string, rules: Array<Record<string, unknown>>, wires: string[][]): FlowNode {
  return { id, type: "change", z: TAB, name, action: "", property: "", from: "", to: "", reg: false, ...at(), rules, wires };
}

/** The rule that marks which output a msg came out of. */
function routed(status: string): Record<string, unknown> {
  return { t: "set", p: "routed", pt: "msg", to: status, tot: "str" };
}

export function coreReceiverFlow(path: string, secret: string): FlowNode[] {
  const check = `
const given = msg.req.headers["x-webhook-secret"];
if (given !== ${JSON.stringify(secret)}) { msg.statusCode = 401; msg.payload = { error: "Unauthorized" }; return [null, msg]; }
const b = msg.payload;
if (!b || typeof b !== "object") { msg.statusCode = 400; msg.payload = { error: "expected a JSON object" }; return [null, msg]; }
if (typeof b.agent_loop_id !== "string" || !b.agent_loop_id) { msg.statusCode = 400; msg.payload = { error: "agent_loop_id: required" }; return [null, msg]; }
if (typeof b.execution_id !== "string" || !b.execution_id) { msg.statusCode = 400; msg.payload = { error: "execution_id: required" }; return [null, msg]; }
if (!["completed", "failed", "timeout"].includes(b.status)) { msg.statusCode = 400; msg.payload = { error: "status: expected one of completed, failed, timeout" }; return [null, msg]; }
return [msg, null];`;
  const change = (id: string, status: string): FlowNode =>
    changeNode(id, status, [routed(status), { t: "set", p: "payload", pt: "msg", to: '{"received":true}', tot: "json" }], [["core-res"]]);
  return [
    tab,
    httpIn("core-in", path, "post", [["core-check"]]),
    fn("core-check", check, 2, [["core-switch"], ["core-res"]]),
    {
      id: "core-switch",
      type: "switch",
      z: TAB,
      name: "status",
      property: "payload.status",
      propertyType: "msg",
      rules: [
        { t: "eq", v: "completed", vt: "str" },
        { t: "eq", v: "failed", vt: "str" },
        { t: "eq", v: "timeout", vt: "str" },
      ],
      checkall: "true",
      repair: false,
      outputs: 3,
      ...at(),
      wires: [["core-completed"], ["core-failed"], ["core-timeout"]],
    },
    change("core-completed", "completed"),
    change("core-failed", "failed"),
    change("core-timeout", "timeout"),
    httpResponse("core-res"),
  ];
}

/** The id of the callback store config node that storeNode() makes. */
export const STORE_ID = "cb-store";

/** A callback store config node on the Redis at `url` (shared by the nodes whose `store` names it). */
export function storeNode(url: string): FlowNode {
  return { id: STORE_ID, type: "agent-callback-store", name: "", url, prefix: "agent-callback:", tls: "" };
}

export interface CallbackInOptions {
  maxBody?: number;
  rateLimit?: number;
  /** Redis URL: dedupe and rate limit shared through a callback store there. */
  store?: string;
  /** Record each emitted execution_id by output in global context, readable at GET /__emitted. */
  record?: boolean;
}

/** callback in with its three outputs wired to change nodes (or recorders), secret in credentials. */
export function callbackInFlow(path: string, secret: string, options: CallbackInOptions = {}): FlowNode[] {
  const outputs = ["completed", "failed", "timeout"];
  const nodes: FlowNode[] = [
    tab,
    {
      id: "cb-in",
      type: "agent-callback-in",
      z: TAB,
      name: "",
      url: path,
      verify: "secret",
      secretHeader: "X-Webhook-Secret",
      tolerance: 300,
      dedupe: true,
      dedupeTtl: 86400,
      rateLimit: options.rateLimit ?? 0,
      maxBody: options.maxBody ?? 1024,
      respond: "immediately",
      ...(options.store !== undefined ? { store: STORE_ID } : {}),
      credentials: { secret },
      ...at(),
      wires: outputs.map((status) => [`cb-in-${status}`]),
    },
  ];
  if (options.store !== undefined) nodes.push(storeNode(options.store));
  for (const status of outputs) {
    if (options.record) {
      nodes.push(
        fn(
          `cb-in-${status}`,
          `const e = global.get("emitted") || []; e.push([${JSON.stringify(status)}, msg.payload.execution_id, msg.payload.status]); global.set("emitted", e); return null;`,
          1,
          [[]],
        ),
      );
    } else {
      nodes.push(changeNode(`cb-in-${status}`, status, [routed(status)], [[]]));
    }
  }
  if (options.record) {
    nodes.push(
      httpIn("emitted-in", "/__emitted", "get", [["emitted-read"]]),
      fn("emitted-read", `msg.payload = global.get("emitted") || []; return msg;`, 1, [["emitted-res"]]),
      httpResponse("emitted-res"),
    );
  }
  return nodes;
}

/**
 * Settings for a Node-RED child that runs flows with the feeder (feederNodes) or
 * withoutCallbackOut: they load the harness nodes from test/reliability/support/harness-nodes.
 */
export const harnessProcessOptions = {
  settings: { nodesDir: path.join(__dirname, "harness-nodes") },
} satisfies NodeRedProcessOptions;

/**
 * A feeder (harness-feeder) that keeps `window` messages outstanding on `targetId`: it sends more
 * whenever the target calls done() (seen by a complete node). POST /__start {count, first} starts
 * it; its progress is in GET /__probe (probeNodes).
 */
function feederNodes(targetId: string, template: CallbackPayload, window: number): FlowNode[] {
  return [
    httpIn("feed-start", "/__start", "post", [["feed"]]),
    { id: "feed", type: "harness-feeder", z: TAB, name: "feed", template, window, ...at(), wires: [[targetId], ["feed-res"]] },
    httpResponse("feed-res"),
    { id: "feed-complete", type: "complete", z: TAB, name: "", scope: [targetId], uncaught: false, ...at(), wires: [["feed"]] },
  ];
}

/** GET /__probe: the feeder's progress, the target's last node status, and output counts. */
function probeNodes(targetId: string): FlowNode[] {
  return [
    { id: "feed-status", type: "status", z: TAB, name: "", scope: [targetId], ...at(), wires: [["feed-status-keep"]] },
    fn("feed-status-keep", `global.set("lastStatus", msg.status); return null;`, 1, [[]]),
    httpIn("probe-in", "/__probe", "get", [["probe-read"]]),
    fn(
      "probe-read",
      `const f = global.get("feeder") || {}; msg.payload = { next: f.next || 0, outstanding: f.outstanding || 0, completed: f.completed || 0, status: global.get("lastStatus") || null, outputs: global.get("outputs") || [0, 0] }; return msg;`,
      1,
      [["probe-res"]],
    ),
    httpResponse("probe-res"),
  ];
}

/** What users build without the plugin to send: a core http request node (keep-alive on). */
export function coreSenderFlow(sinkUrl: string, template: CallbackPayload, inFlight: number): FlowNode[] {
  return [
    tab,
    ...feederNodes("core-req", template, inFlight),
    ...probeNodes("core-req"),
    {
      id: "core-req",
      type: "http request",
      z: TAB,
      name: "",
      method: "POST",
      ret: "txt",
      paytoqs: "ignore",
      url: sinkUrl,
      tls: "",
      persist: true,
      proxy: "",
      insecureHTTPParser: false,
      authType: "",
      senderr: false,
      headers: [],
      ...at(),
      wires: [[]],
    },
  ];
}

export interface CallbackOutOptions {
  concurrency?: number;
  maxQueue?: number;
  retrySchedule?: number[];
  timeout?: number;
  /** Messages kept outstanding on the node's input (it acknowledges once a callback is on disk). */
  window?: number;
  secret?: string;
  /** Count each output's messages in global "outputs" (reported by /__probe); default true. */
  countOutputs?: boolean;
  /** Redis URL: the outbox lives in a callback store there, shared by every instance. */
  store?: string;
  leaseSeconds?: number;
  /** Pause and pace per receiver (defaults: the node's). */
  pauseAfter?: number;
  pauseFor?: number;
  maxRate?: number;
}

/** callback out (durable outbox, always on) fed by the feeder. */
export function callbackOutFlow(sinkUrl: string, template: CallbackPayload, options: CallbackOutOptions = {}): FlowNode[] {
  return [tab, ...feederNodes("cb-out", template, options.window ?? 500), ...callbackOutNodes(sinkUrl, options)];
}

/** callback out ("cb-out", its input not wired yet), its output counters and GET /__probe. */
function callbackOutNodes(sinkUrl: string, options: CallbackOutOptions): FlowNode[] {
  const count = (i: number): string => `const o = global.get("outputs") || [0, 0]; o[${i}]++; global.set("outputs", o); return null;`;
  return [
    ...probeNodes("cb-out"),
    {
      id: "cb-out",
      type: "agent-callback-out",
      z: TAB,
      name: "",
      url: sinkUrl,
      headers: [],
      secretHeader: "X-Webhook-Secret",
      signature: "none",
      agentLoopId: "",
      agentLoopName: "",
      timeout: options.timeout ?? 15,
      retrySchedule: options.retrySchedule ?? [5, 300, 1800, 7200, 18000, 36000, 36000],
      retry4xx: true,
      concurrency: options.concurrency ?? 10,
      maxQueue: options.maxQueue ?? 10000,
      ...(options.store !== undefined ? { store: STORE_ID, leaseSeconds: options.leaseSeconds ?? 60 } : {}),
      ...(options.pauseAfter !== undefined ? { pauseAfter: options.pauseAfter } : {}),
      ...(options.pauseFor !== undefined ? { pauseFor: options.pauseFor } : {}),
      ...(options.maxRate !== undefined ? { maxRate: options.maxRate } : {}),
      ...(options.secret !== undefined ? { credentials: { secret: options.secret } } : {}),
      ...at(),
      wires: options.countOutputs === false ? [[], []] : [["cb-out-delivered"], ["cb-out-gaveup"]],
    },
    ...(options.countOutputs === false ? [] : [fn("cb-out-delivered", count(0), 1, [[]]), fn("cb-out-gaveup", count(1), 1, [[]])]),
    ...(options.store !== undefined ? [storeNode(options.store)] : []),
  ];
}

/** NodeRedProcess options that let gcNodes() collect garbage and report process.memoryUsage(). */
export const gcProcessOptions = {
  nodeArgs: ["--expose-gc"],
  settingsSource: "functionGlobalContext: { gc: global.gc, memoryUsage: () => process.memoryUsage() }",
} satisfies NodeRedProcessOptions;

/**
 * `flows` (a callbackOutFlow) with callback out replaced by a node that completes each msg at once
 * (harness-drop): the feed with nothing queued or sent, to tell its own cost from callback out's.
 */
export function withoutCallbackOut(flows: FlowNode[]): FlowNode[] {
  return flows.map((n) => (n.id === "cb-out" ? { id: "cb-out", type: "harness-drop", z: TAB, name: "", x: n.x, y: n.y, wires: [] } : n));
}

/**
 * GET /__gc runs a full garbage collection in the child (start it with gcProcessOptions), so RSS
 * is read without garbage still waiting.
 */
export function gcNodes(): FlowNode[] {
  return [
    httpIn("gc-in", "/__gc", "get", [["gc-run"]]),
    fn(
      "gc-run",
      `const gc = global.get("gc"); if (typeof gc !== "function") { msg.statusCode = 501; msg.payload = { error: "no gc" }; return msg; } gc(); gc(); const mem = global.get("memoryUsage"); msg.payload = typeof mem === "function" ? mem() : {}; return msg;`,
      1,
      [["gc-res"]],
    ),
    httpResponse("gc-res"),
  ];
}

/**
 * Runs GET /__gc; throws when the child was not started with --expose-gc. Returns the child's
 * process.memoryUsage() (empty when started without gcProcessOptions' settingsSource).
 */
export async function collectGarbage(baseUrl: string): Promise<Partial<NodeJS.MemoryUsage>> {
  const res = await fetch(`${baseUrl}/__gc`);
  if (res.status !== 200) throw new Error(`gc: ${res.status} ${await res.text()}`);
  return (await res.json()) as Partial<NodeJS.MemoryUsage>;
}

/**
 * callback out fed from outside: POST /__enqueue with a payload answers 200 only once callback out
 * has acknowledged the msg (done(), i.e. it is on disk), and 503 when it refused it. A client that
 * retries until it gets 200 therefore knows exactly which callbacks the node has promised to deliver.
 */
export function enqueueFlow(sinkUrl: string, options: CallbackOutOptions = {}): FlowNode[] {
  return [
    tab,
    ...callbackOutNodes(sinkUrl, options),
    httpIn("enqueue-in", "/__enqueue", "post", [["cb-out"]]),
    { id: "enqueue-complete", type: "complete", z: TAB, name: "", scope: ["cb-out"], uncaught: false, ...at(), wires: [["enqueue-ack"]] },
    fn("enqueue-ack", `msg.statusCode = 200; msg.payload = { queued: true }; return msg;`, 1, [["enqueue-res"]]),
    { id: "enqueue-catch", type: "catch", z: TAB, name: "", scope: ["cb-out"], uncaught: false, ...at(), wires: [["enqueue-nack"]] },
    fn(
      "enqueue-nack",
      `if (!msg.res) return null; msg.statusCode = 503; msg.payload = { error: String(msg.error && msg.error.message) }; return msg;`,
      1,
      [["enqueue-res"]],
    ),
    httpResponse("enqueue-res"),
  ];
}

/**
 * Deploys `flows` (full deployment) through the admin API at `baseUrl`. Pass the child's log
 * reader to also wait until the new flows have started (the API may answer before that).
 */
export async function deployFlows(baseUrl: string, flows: FlowNode[], log?: () => string): Promise<void> {
  const started = (): number => (log?.().match(/Started flows/g) ?? []).length;
  const before = started();
  const res = await fetch(`${baseUrl}/flows`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "Node-RED-Deployment-Type": "full" },
    body: JSON.stringify(flows),
  });
  if (res.status !== 200 && res.status !== 204) throw new Error(`deploy failed: ${res.status} ${await res.text()}`);
  const deadline = Date.now() + 30_000;
  while (log && started() <= before) {
    if (Date.now() > deadline) throw new Error(`flows did not start after deploy:\n${log()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface Probe {
  next: number;
  outstanding: number;
  completed: number;
  status: { text?: string; fill?: string; shape?: string } | null;
  outputs: [number, number];
}

export async function probe(baseUrl: string): Promise<Probe> {
  const res = await fetch(`${baseUrl}/__probe`);
  if (res.status !== 200) throw new Error(`probe: ${res.status}`);
  return (await res.json()) as Probe;
}

/** Starts the feeder: `count` messages with execution_ids exec_<first>.. exec_<first+count-1>. */
export async function startFeed(baseUrl: string, count: number, first = 0): Promise<void> {
  const res = await fetch(`${baseUrl}/__start`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ count, first }),
  });
  if (res.status !== 200) throw new Error(`start: ${res.status} ${await res.text()}`);
}
