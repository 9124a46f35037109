// Shared tools for the example tests: load an example file as shipped, deploy it into a real
// Node-RED child (with credentials through the admin API, as the editor does), stand-in receivers
// on 127.0.0.1, and a watcher of the debug sidebar's messages (the comms websocket).
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { readFileSync } from "node:fs";
import path from "node:path";
import { NodeRedProcess, freePort, repoRoot, type NodeRedProcessOptions } from "../support/node-red";
import { CommsWatcher, type DebugMessage } from "../support/comms";
import { samplePayload, type CallbackPayload } from "../../nodes/lib/shared/payload";

export const examplesDir = path.join(repoRoot, "examples");

export interface FlowNode {
  id: string;
  type: string;
  z?: string;
  name?: string;
  wires?: string[][];
  [key: string]: unknown;
}

/** The example's nodes exactly as the file ships them. */
export function loadExample(fileName: string): FlowNode[] {
  const parsed: unknown = JSON.parse(readFileSync(path.join(examplesDir, fileName), "utf8"));
  if (!Array.isArray(parsed)) throw new Error(`${fileName}: not a top-level JSON array`);
  return parsed as FlowNode[];
}

export function nodeOfType(nodes: FlowNode[], type: string, name?: string): FlowNode {
  const found = nodes.filter((n) => n.type === type && (name === undefined || n.name === name));
  if (found.length !== 1) throw new Error(`expected one ${type}${name ? ` named "${name}"` : ""}, found ${found.length}`);
  return found[0] as FlowNode;
}

/**
 * The flow as Node-RED deploys it after an import: the example's nodes on one tab. Credentials,
 * keyed by node id, are attached the way the editor sends them (never written into the example).
 */
export function asDeployment(nodes: FlowNode[], credentials: Record<string, Record<string, string>> = {}): FlowNode[] {
  const tabIds = new Set(nodes.filter((n) => n.z).map((n) => n.z as string));
  const tabs: FlowNode[] = [...tabIds].map((id) => ({ id, type: "tab", label: "example", disabled: false, info: "" }));
  return [
    ...tabs,
    ...nodes.map((n) => (credentials[n.id] ? { ...n, credentials: credentials[n.id] } : { ...n })),
  ];
}

/** A real Node-RED with the plugin and the examples' third-party nodes installed. */
export async function startNodeRed(options: NodeRedProcessOptions = {}, port = 0): Promise<NodeRedProcess> {
  const red = new NodeRedProcess({ modules: ["node-red-node-email", "node-red-node-sqlite"], ...options });
  red.port = port;
  await red.start();
  return red;
}

/** Full deploy through the admin API (POST /flows), then waits until the flows have started. */
export async function deploy(red: NodeRedProcess, flow: FlowNode[]): Promise<void> {
  const before = (red.log.match(/Started flows/g) ?? []).length;
  const res = await fetch(`${red.url}/flows`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "Node-RED-Deployment-Type": "full" },
    body: JSON.stringify(flow),
  });
  if (res.status !== 204 && res.status !== 200) throw new Error(`deploy failed: ${res.status} ${await res.text()}`);
  await waitUntil(() => (red.log.match(/Started flows/g) ?? []).length > before, "flows restarted after deploy", 30_000, () => red.log);
}

/** Presses an inject node's button, as the editor does. */
export async function pressInject(red: NodeRedProcess, id: string): Promise<void> {
  const res = await fetch(`${red.url}/inject/${id}`, { method: "POST" });
  if (res.status !== 200) throw new Error(`inject ${id}: ${res.status} ${await res.text()}`);
}

/** Polls `condition` until true; fails with `what` (and the optional context) after `timeoutMs`. */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
  context?: () => string,
): Promise<void> {
  const started = Date.now();
  for (;;) {
    if (await condition()) return;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}${context ? `\n${context()}` : ""}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** An HTTP server on 127.0.0.1 that records every request and answers with `reply`. */
export class Receiver {
  readonly requests: ReceivedRequest[] = [];
  private server: Server | undefined;
  port = 0;

  constructor(private readonly reply: (req: ReceivedRequest) => { status: number; body: string; type?: string } = () => ({ status: 200, body: "ok", type: "text/plain" })) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const received = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
        this.requests.push(received);
        const answer = this.reply(received);
        res.writeHead(answer.status, { "Content-Type": answer.type ?? "application/json" });
        res.end(answer.body);
      });
    });
    return new Promise((resolve) => this.server?.listen(0, "127.0.0.1", () => {
      const address = this.server?.address();
      this.port = typeof address === "object" && address ? address.port : 0;
      resolve();
    }));
  }

  to(pathName: string): ReceivedRequest[] {
    return this.requests.filter((r) => r.url === pathName);
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.server) return resolve();
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}

/** POSTs a callback to a callback in endpoint of `red`; returns status and parsed reply. */
export async function postCallback(
  red: NodeRedProcess,
  pathName: string,
  payload: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${red.url}${pathName}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: JSON.stringify(payload),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text for the assertion message
  }
  return { status: res.status, body };
}

/** What an example spec adds around its Node-RED; everything is optional. */
export interface ExampleSetup {
  /** The callback in's secret, deployed as its credential. Without it the example is deployed as imported. */
  secret?: string;
  /** The child's environment; gets the port Node-RED will listen on (example 8 points its base URL at it). */
  env?: (port: number) => Record<string, string>;
  /** Connected to the debug sidebar after the deploy, closed first. */
  watcher?: DebugWatcher;
  /** Runs before Node-RED starts, e.g. starts the stand-in servers that `env` names. */
  beforeStart?: () => Promise<void> | void;
  /** Runs after Node-RED has stopped, e.g. stops those servers or removes temporary files. */
  afterStop?: () => Promise<void> | void;
}

/** The running example, for the spec's tests (`red` exists from the first test on). */
export interface ExampleInNodeRed {
  readonly red: NodeRedProcess;
  /** The example's nodes exactly as the file ships them. */
  readonly nodes: FlowNode[];
  /** The example's one callback in. */
  readonly callbackIn: FlowNode;
  /** POSTs to callback in's path with the setup's secret, or with `secret` given: that one, or none for null. */
  post(payload: unknown, options?: { secret?: string | null }): Promise<{ status: number; body: unknown }>;
}

/**
 * A describe block for one example: a real Node-RED with the example deployed is started before
 * its tests and stopped after them; `body` declares the tests.
 */
export function describeExample(fileName: string, setup: ExampleSetup, body: (example: ExampleInNodeRed) => void): void {
  describe(`example "${fileName}"`, function () {
    this.timeout(120_000);
    const nodes = loadExample(fileName);
    let red: NodeRedProcess | undefined;
    let callbackIn: FlowNode | undefined;
    const example: ExampleInNodeRed = {
      get red() {
        if (!red) throw new Error("Node-RED is not started yet (use example.red inside a test or hook)");
        return red;
      },
      nodes,
      get callbackIn() {
        // Looked up on first use: example 7 has no callback in.
        callbackIn ??= nodeOfType(nodes, "agent-callback-in");
        return callbackIn;
      },
      post(payload, options = {}) {
        const secret = options.secret === undefined ? setup.secret : options.secret;
        const headers: Record<string, string> = secret === undefined || secret === null ? {} : { "X-Webhook-Secret": secret };
        return postCallback(example.red, example.callbackIn.url as string, payload, headers);
      },
    };

    before(async () => {
      await setup.beforeStart?.();
      // Chosen here rather than by the child so that `env` can name it.
      const port = await freePort();
      red = await startNodeRed(setup.env ? { env: setup.env(port) } : {}, port);
      const credentials = setup.secret === undefined ? {} : { [example.callbackIn.id]: { secret: setup.secret } };
      await deploy(red, asDeployment(nodes, credentials));
      await setup.watcher?.connect(red);
    });

    after(async () => {
      setup.watcher?.close();
      await red?.stop();
      red?.cleanup();
      await setup.afterStop?.();
    });

    body(example);
  });
}

/** The three payload shapes of the seed, with distinct execution ids. */
export function completedPayload(executionId = "exec_completed_1"): CallbackPayload {
  return { ...samplePayload(), execution_id: executionId };
}
export function failedPayload(executionId = "exec_failed_1"): CallbackPayload {
  return { ...samplePayload(), execution_id: executionId, status: "failed", result: null, error: "Tool call failed: HTTP 500 from API" };
}
export function timeoutPayload(executionId = "exec_timeout_1"): CallbackPayload {
  return {
    ...samplePayload(),
    execution_id: executionId,
    status: "timeout",
    result: { output: "Partial result...", iterations_used: 9, tool_calls: 4 },
    error: "Execution timeout after 300 seconds",
  };
}

export type { DebugMessage };

/** What the debug sidebar would show: the debug messages Node-RED's comms websocket carries (comms.ts). */
export class DebugWatcher {
  private readonly comms = new CommsWatcher();

  get messages(): DebugMessage[] {
    return this.comms.debug;
  }

  connect(red: NodeRedProcess): Promise<void> {
    return this.comms.connect(red.url);
  }

  /** Messages of the debug node named `name`, parsed when they are JSON. */
  from(name: string): unknown[] {
    return this.messages.filter((m) => m.name === name).map((m) => {
      try {
        return JSON.parse(m.msg) as unknown;
      } catch {
        return m.msg;
      }
    });
  }

  close(): void {
    this.comms.close();
  }
}
