// npm run bench: the plugin's nodes measured side by side with what users would build without
// them, each variant in its own process on 127.0.0.1 (and the sender section's sink in another),
// alternated A B C A B C over several rounds, medians and ratios to the first variant (the limit),
// a printed table, the goals of docs/benchmarks.md judged, and JSON in bench/results/.
//
//   BENCH_QUICK=1 npm run bench      short runs for iteration (also: --quick)
//   BENCH_PROFILE=1 npm run bench    --cpu-prof on the plugin variants, summarised at the end
//   BENCH_PROFILE_LAST_MS=1000       summarise only each profile's last N ms (the measured run, not start-up)
//   BENCH_ONLY=receiver,sender,growth,queue   pick sections (BENCH_ONLY=sender: only the sender table)
//   BENCH_ROUNDS=3                   rounds of the comparisons (at least 2)
//   BENCH_VARIANTS=callback          only receiver and sender variants whose name contains one of these (comma list)
//   BENCH_DELIVERIES=20000           deliveries per sender run (e.g. for a longer profile)
//   BENCH_BEFORE=../before           a built checkout of an earlier version: its rows beside this one's, alternated
//   BENCH_QUEUED=100000              callbacks queued in the queue section (its goal is judged at 100,000 only)
//   BENCH_SETTLE_SECONDS=30          idle time before the queue's "settled" RSS is read
//   BENCH_PIN=0                      the sender section's sink not pinned to a core of its own (bench/lib/cores.ts)
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import autocannon from "autocannon";
import { NodeRedProcess, nodeRedVersion, repoRoot } from "../test/support/node-red";
import { RedisServer } from "../test/support/redis-server";
import { FaultReceiver } from "../test/reliability/support/fault-receiver";
import { callbackOfSize } from "../test/reliability/support/payloads";
import {
  callbackInFlow,
  callbackOutFlow,
  collectGarbage,
  coreReceiverFlow,
  coreSenderFlow,
  deployFlows,
  gcNodes,
  gcProcessOptions,
  harnessProcessOptions,
  probe,
  startFeed,
  withoutCallbackOut,
  type FlowNode,
} from "../test/reliability/support/flows";
import { cpuMsOf, cpuUsOf, diskUsage, median, rssOf, waitUntil } from "./lib/proc";
import { makeTestPki, type TestPki } from "../test/support/tls";
import { request } from "../test/support/request";
import { freePort } from "../test/support/node-red";
import { printProfileSummary, summariseProfile, type ProfileSummary } from "./lib/profile";
import { SinkProcess } from "./lib/sink";
import { placeSenders } from "./lib/cores";

const quick = process.env.BENCH_QUICK === "1" || process.argv.includes("--quick");
const profiling = process.env.BENCH_PROFILE === "1" || process.argv.includes("--profile");
const profileLastMs = Number(process.env.BENCH_PROFILE_LAST_MS ?? 0);
const sections = new Set((process.env.BENCH_ONLY || "receiver,sender,growth,queue").split(",").map((s) => s.trim()));
const settings = {
  rounds: Math.max(2, Number(process.env.BENCH_ROUNDS || (quick ? 2 : 3))),
  duration: quick ? 3 : 8,
  warmup: quick ? 1 : 2,
  connections: 20,
  deliveries: Number(process.env.BENCH_DELIVERIES || (quick ? 1000 : 5000)),
  /** Deliveries sent before each measured sender run (at most a fifth of the run). */
  senderWarmup: quick ? 200 : 1000,
  inFlight: 10,
  queued: Number(process.env.BENCH_QUEUED || (quick ? 10_000 : 100_000)),
  growthDuration: quick ? 2 : 4,
  /** Idle time before the queue's "settled" RSS is read (V8 gives a burst's garbage back only once the process idles). */
  settleSeconds: Number(process.env.BENCH_SETTLE_SECONDS || 30),
  growthDeliveries: quick ? { 1: 500, 100: 200, 1024: 50 } : { 1: 2000, 100: 1000, 1024: 200 },
};
const variantFilter = (process.env.BENCH_VARIANTS || "")
  .split(",")
  .map((s) => s.trim().toLowerCase())
  .filter(Boolean);
const selected = (variants: string[]): string[] =>
  variantFilter.length ? variants.filter((v) => variantFilter.some((f) => v.toLowerCase().includes(f))) : variants;
/**
 * BENCH_BEFORE=<folder>: a built checkout of the plugin before a change. Each plugin row then gets a
 * twin marked BEFORE, run alternately with it in the same run, so a change is judged against its past.
 */
const beforeDir = process.env.BENCH_BEFORE ? path.resolve(process.env.BENCH_BEFORE) : undefined;
const BEFORE = " [before]";
/** `variant` and, with BENCH_BEFORE, its twin right after it. */
const withBefore = (variant: string): string[] => (beforeDir ? [variant, variant + BEFORE] : [variant]);
const SECRET = "bench-secret-0123456789";
const PATH = "/agent-results";
const resultsDir = path.join(repoRoot, "bench", "results");
const profileDir = path.join(resultsDir, "profiles", new Date().toISOString().replace(/[:.]/g, "-"));

// ---------------------------------------------------------------------------------------------
// Running variants

/** The nodes with a callback store on a local redis-server (appendonly yes, as advised for production). */
const STORE_IN = "Node-RED callback in (Redis store)";
const STORE_OUT = "Node-RED callback out (Redis store)";

/** Starts a fresh local redis-server for one variant run; it stops with the variant. */
async function withRedis(start: (url: string) => Promise<Running>): Promise<Running> {
  const redis = new RedisServer();
  await redis.start();
  try {
    const running = await start(redis.url);
    return {
      ...running,
      stop: async () => {
        await running.stop();
        await redis.stop();
        redis.cleanup();
      },
    };
  } catch (err) {
    await redis.stop();
    redis.cleanup();
    throw err;
  }
}

interface Running {
  url: string;
  /** The CA to trust when `url` is https (a test certificate). */
  ca?: string;
  pid: number;
  nodeRed?: NodeRedProcess;
  child?: ChildProcess;
  stop(): Promise<void>;
}

/** A plain JS baseline (bench/servers/*.js, bench/senders/*.js) in its own process. */
function startScript(script: string, env: Record<string, string>): Promise<Running> {
  const child = spawn(process.execPath, [path.join(__dirname, script)], {
    env: { ...process.env, ...env },
    stdio: ["pipe", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    let out = "";
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      const match = /READY ?(\d*)/.exec(out);
      if (!match) return;
      child.stdout?.off("data", onData);
      resolve({
        url: `http://127.0.0.1:${match[1] ?? ""}`,
        pid: child.pid ?? 0,
        child,
        stop: () =>
          new Promise((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            child.once("exit", () => done());
            child.kill("SIGTERM");
          }),
      });
    };
    child.stdout?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`${script} exited (${code}) before it was ready: ${out}`)));
  });
}

/** A real Node-RED child with `flows` deployed through its admin API. */
interface NodeRedStart {
  /** --cpu-prof when BENCH_PROFILE is set. */
  profile?: boolean;
  /** Started so that GET /__gc collects garbage and reports memory. */
  gc?: boolean;
  nodeArgs?: string[];
  /** The plugin's folder (BENCH_BEFORE's twins); this repo when not given. */
  pluginDir?: string;
}

async function startNodeRed(flows: FlowNode[], label: string, start: NodeRedStart = {}): Promise<Running> {
  const { profile = false, gc = false, pluginDir } = start;
  const nodeArgs = [
    ...(start.nodeArgs ?? []),
    ...(profile && profiling
      ? ["--cpu-prof", "--cpu-prof-interval=100", `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${label}-${Date.now()}.cpuprofile`]
      : []),
  ];
  // With gc, GET /__gc runs a full collection and returns process.memoryUsage() (retained vs garbage).
  const nodeRed = new NodeRedProcess({
    ...harnessProcessOptions,
    ...(pluginDir ? { pluginDir } : {}),
    ...(gc ? { nodeArgs: [...nodeArgs, ...gcProcessOptions.nodeArgs], settingsSource: gcProcessOptions.settingsSource } : { nodeArgs }),
  });
  await nodeRed.start();
  await deployFlows(nodeRed.url, gc ? [...flows, ...gcNodes()] : flows, () => nodeRed.log);
  return {
    url: nodeRed.url,
    pid: nodeRed.pid,
    nodeRed,
    stop: async () => {
      await nodeRed.stop();
      nodeRed.cleanup();
    },
  };
}

/** Waits until an unsigned POST to the receiver's path is refused with 401 (the route exists after a deploy). */
async function waitForRoute(url: string, ca?: string): Promise<void> {
  await waitUntil(
    async () => {
      try {
        const res = await request(url + PATH, { headers: { "Content-Type": "application/json" }, body: "{}", ca });
        return res.status === 401;
      } catch {
        return false;
      }
    },
    30_000,
    `${url}${PATH} to answer 401`,
  );
}

// ---------------------------------------------------------------------------------------------
// Load

interface LoadResult {
  rps: number;
  /** Latency percentiles of the 2xx answers in ms, from each response's own time (autocannon's histogram counts whole ms). */
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

/** The value below which `share` of the sorted `values` lie (nearest rank). */
function percentile(sorted: Float64Array, share: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(share * sorted.length) - 1)] ?? NaN;
}

/** autocannon, with the time of every 2xx answer kept to a fraction of a ms. */
function loadWithLatencies(options: autocannon.Options): Promise<{ result: autocannon.Result; latencies: Float64Array }> {
  return new Promise((resolve, reject) => {
    const latencies: number[] = [];
    const instance = autocannon(options, (err, result) => {
      if (err) reject(err);
      else resolve({ result, latencies: Float64Array.from(latencies).sort() });
    });
    instance.on("response", (_client, statusCode, _bytes, ms) => {
      if (statusCode >= 200 && statusCode <= 299) latencies.push(ms);
    });
  });
}

let runTag = 0;

/** autocannon against POST PATH with valid, unique callbacks of about `bytes`, statuses rotating. */
async function loadReceiver(url: string, bytes: number, duration: number, connections: number, ca?: string): Promise<LoadResult> {
  const tag = `r${++runTag}`;
  const templates = [0, 1, 2].map((i) => JSON.stringify(callbackOfSize("@@ID@@", bytes, i)).split("@@ID@@"));
  let n = 0;
  const { result, latencies } = await loadWithLatencies({
    url: url + PATH,
    connections,
    pipelining: 1,
    duration,
    timeout: 30,
    ...(ca ? { tlsOptions: { ca } } : {}),
    requests: [
      {
        method: "POST",
        path: PATH,
        headers: { "content-type": "application/json", "x-webhook-secret": SECRET },
        setupRequest: (request) => {
          const parts = templates[n % 3] ?? [];
          request.body = `${parts[0] ?? ""}exec_${tag}_${n++}${parts[1] ?? ""}`;
          return request;
        },
      },
    ],
  });
  return {
    rps: result.requests.average,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

/** Once the route is up: a warm-up load, then the measured one, and the receiver's peak RSS after it. */
async function measureReceiver(
  running: Running,
  bytes: number,
  load: { warmup: number; duration: number; connections: number },
  label: string,
): Promise<LoadResult & { rss: number; cpuUs: number }> {
  await waitForRoute(running.url, running.ca);
  await loadReceiver(running.url, bytes, load.warmup, load.connections, running.ca);
  const cpuBefore = cpuMsOf(running.pid);
  const result = await loadReceiver(running.url, bytes, load.duration, load.connections, running.ca);
  // CPU per request of the receiving process: steadier than req/s when the load generator shares the machine.
  const cpuUs = ((cpuMsOf(running.pid) - cpuBefore) * 1000) / (result.rps * load.duration);
  if (result.non2xx || result.errors) notes.push(`${label}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return { ...result, cpuUs, rss: rssOf(running.pid).peak };
}

// ---------------------------------------------------------------------------------------------
// Results

type Row = Record<string, number>;
interface Table {
  title: string;
  /** Metric names in column order; the first one is the one ratios are taken of. */
  metrics: Array<{ key: string; label: string; higherIsBetter: boolean; digits: number }>;
  variants: string[];
  runs: Record<string, Row[]>;
}

const tables: Table[] = [];
const notes: string[] = [];

function summarise(table: Table): Array<{ variant: string; median: Row; ratio: Row; runs: number }> {
  const baseline = table.variants[0] ?? "";
  const medians: Record<string, Row> = {};
  for (const variant of table.variants) {
    const rows = table.runs[variant] ?? [];
    const row: Row = {};
    for (const metric of table.metrics) row[metric.key] = median(rows.map((r) => r[metric.key] ?? NaN));
    medians[variant] = row;
  }
  return table.variants.map((variant) => {
    const ratio: Row = {};
    for (const metric of table.metrics)
      ratio[metric.key] = (medians[variant]?.[metric.key] ?? NaN) / (medians[baseline]?.[metric.key] ?? NaN);
    return { variant, median: medians[variant] ?? {}, ratio, runs: (table.runs[variant] ?? []).length };
  });
}

/** A table cell: `value` with `digits` decimals, "-" when it is missing or not finite. */
function cell(value: number | undefined, digits: number): string {
  return value !== undefined && Number.isFinite(value) ? value.toFixed(digits) : "-";
}

function printTable(table: Table): void {
  const rows = summarise(table);
  const ratioKey = table.metrics[0]?.key ?? "";
  const header = ["variant", ...table.metrics.map((m) => m.label), `x ${table.variants[0]}`, "runs"];
  const body = rows.map((row) => [
    row.variant,
    ...table.metrics.map((m) => cell(row.median[m.key], m.digits)),
    cell(row.ratio[ratioKey], 2),
    String(row.runs),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]): string =>
    "| " + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(" | ") + " |";
  console.log(`\n### ${table.title}\n`);
  console.log(line(header));
  console.log("|" + widths.map((w, i) => (i === 0 ? "-".repeat(w + 2) : "-".repeat(w + 1) + ":")).join("|") + "|");
  for (const r of body) console.log(line(r));
}

function record(table: Table, variant: string, row: Row): void {
  (table.runs[variant] ??= []).push(row);
  const text = table.metrics.map((m) => `${m.label} ${(row[m.key] ?? NaN).toFixed(m.digits)}`).join(", ");
  console.log(`  ${table.title} / ${variant}: ${text}`);
}

// ---------------------------------------------------------------------------------------------
// Receiver: same contract, four implementations

async function receiverSection(): Promise<void> {
  const table: Table = {
    title: `Receiver (${settings.connections} connections, 1 KB callbacks, ${settings.duration} s per run)`,
    metrics: [
      { key: "rps", label: "req/s", higherIsBetter: true, digits: 0 },
      { key: "p50", label: "p50 ms", higherIsBetter: false, digits: 1 },
      { key: "p99", label: "p99 ms", higherIsBetter: false, digits: 1 },
      { key: "cpuUs", label: "CPU µs each", higherIsBetter: false, digits: 0 },
      { key: "rss", label: "peak RSS MiB", higherIsBetter: false, digits: 0 },
    ],
    variants: selected([
      BARE,
      "Node-RED core nodes",
      "Express express.json()",
      ...withBefore("Node-RED callback in"),
      ...withBefore(OWN_PORT),
      OWN_PORT_HTTPS,
      STORE_IN,
    ]),
    runs: {},
  };
  tables.push(table);
  const pki = table.variants.includes(OWN_PORT_HTTPS) ? makeTestPki() : undefined;
  const starters: Record<string, () => Promise<Running>> = {
    [BARE]: () => startScript("servers/bare.js", { BENCH_SECRET: SECRET, BENCH_PATH: PATH }),
    "Express express.json()": () => startScript("servers/express.js", { BENCH_SECRET: SECRET, BENCH_PATH: PATH }),
    "Node-RED core nodes": () => startNodeRed(coreReceiverFlow(PATH, SECRET), "receiver-core"),
    "Node-RED callback in": () => startNodeRed(callbackInFlow(PATH, SECRET, { rateLimit: 0 }), "receiver-callback-in", { profile: true }),
    ["Node-RED callback in" + BEFORE]: () =>
      startNodeRed(callbackInFlow(PATH, SECRET, { rateLimit: 0 }), "receiver-callback-in-before", { profile: true, pluginDir: beforeDir }),
    [OWN_PORT]: () => startOwnPort(undefined),
    [OWN_PORT + BEFORE]: () => startOwnPort(undefined, beforeDir),
    [OWN_PORT_HTTPS]: () => startOwnPort(pki),
    [STORE_IN]: () =>
      withRedis((url) =>
        startNodeRed(callbackInFlow(PATH, SECRET, { rateLimit: 0, store: url }), "receiver-callback-in-redis", { profile: true }),
      ),
  };
  try {
    for (let round = 1; round <= settings.rounds; round++) {
      for (const variant of table.variants) {
        const running = await (starters[variant] as () => Promise<Running>)();
        try {
          record(table, variant, { ...(await measureReceiver(running, 1024, settings, `receiver ${variant} round ${round}`)) });
        } finally {
          await running.stop();
        }
      }
    }
  } finally {
    pki?.cleanup();
  }
}

const BARE = "node:http (bare)";
const OWN_PORT = "Node-RED callback in, own port";
const OWN_PORT_HTTPS = "Node-RED callback in, own port, HTTPS";

/** callback in on a port of its own (HTTPS with the test certificate when `pki` is given); the load goes to that port. */
async function startOwnPort(pki: TestPki | undefined, pluginDir?: string): Promise<Running> {
  const port = await freePort();
  const flows = callbackInFlow(PATH, SECRET, { rateLimit: 0 });
  const node = flows.find((n) => n.type === "agent-callback-in") as FlowNode;
  Object.assign(node, { listen: "port", port, host: "127.0.0.1", tls: pki ? "bench-tls" : "" });
  if (pki) {
    flows.push({
      id: "bench-tls",
      type: "tls-config",
      name: "",
      cert: "",
      key: "",
      ca: "",
      verifyservercert: false,
      credentials: { certdata: pki.serverCert, keydata: pki.serverKey },
    });
  }
  const label = pki ? "receiver-own-port-https" : pluginDir ? "receiver-own-port-before" : "receiver-own-port";
  const running = await startNodeRed(flows, label, { profile: true, ...(pluginDir ? { pluginDir } : {}) });
  return { ...running, url: `${pki ? "https" : "http"}://127.0.0.1:${port}`, ...(pki ? { ca: pki.ca } : {}) };
}

// ---------------------------------------------------------------------------------------------
// Sender: same payloads, same sink, 10 in flight

interface SendResult {
  rate: number;
  rss: number;
  /** CPU time of the sending process per delivery (all its threads), in µs. */
  cpuUs: number;
  /** The same for the sink: near 1,000,000 / rate, the sink is what limits the run. */
  sinkCpuUs: number;
  /** Share of one core the sender and the sink were busy during the run, in %: near 100, that side is the limit. */
  busy: number;
  sinkBusy: number;
  /** 1-minute load average at the end of the run (the machine's load, this run's two processes included). */
  load: number;
}

const FEED_ALONE = "Node-RED feed alone (nothing sent)";

/** Starts the variant, triggers `count` deliveries to a fresh sink, waits for all of them. */
async function runSender(variant: string, count: number, bytes: number): Promise<SendResult> {
  // Every variant alike: the sender in one process, the sink in another on a core of its own, this
  // one only waiting; what the bench starts while the core is reserved stays off the sink's core.
  const placement = placeSenders();
  try {
    return await runSenderOn(variant, count, bytes, await SinkProcess.start(placement.sink));
  } finally {
    placement.release();
  }
}

async function runSenderOn(variant: string, count: number, bytes: number, sink: SinkProcess): Promise<SendResult> {
  const target = sink.url + PATH;
  const template = callbackOfSize("exec_template", bytes);
  let running: Running | undefined;
  let duplicates = 0;
  /** Resolves with the time the `n`th delivery (counted from the first warm-up one) was done. */
  const delivered = async (n: number): Promise<number> => {
    const stats = await sink.waitForAccepted(n, 180_000).catch((err: Error) => {
      throw new Error(`${variant}: ${err.message}\n${running?.nodeRed?.log.split("\n").slice(-20).join("\n") ?? ""}`);
    });
    duplicates = stats.duplicates;
    return stats.lastAcceptedAt;
  };
  /** Triggers deliveries exec_<first>.. (n of them) and resolves with the time the last was done. */
  let send: (first: number, n: number) => Promise<number>;
  // callback out's flow: outputs unwired, like the core http request variant's (only the sending is measured).
  const outFlow = (store?: string): FlowNode[] =>
    callbackOutFlow(target, template, {
      concurrency: settings.inFlight,
      maxQueue: Math.max(10_000, count),
      window: 500,
      countOutputs: false,
      ...(store !== undefined ? { store } : {}),
    });
  if (variant === "undici Pool (raw)") {
    const script = await startScript("senders/undici.js", {
      BENCH_URL: target,
      BENCH_COUNT: String(count),
      BENCH_IN_FLIGHT: String(settings.inFlight),
      BENCH_PAYLOAD: JSON.stringify(template),
    });
    running = script;
    send = (first, n) => {
      script.child?.stdin?.write(`go ${first} ${n}\n`);
      return delivered(first + n);
    };
  } else if (variant === FEED_ALONE) {
    // callback out's flow with callback out replaced by a node that drops each msg: what the
    // feed itself costs, the floor under both Node-RED variants.
    const nodeRed = await startNodeRed(withoutCallbackOut(outFlow()), "sender-feed");
    running = nodeRed;
    send = async (first, n) => {
      await startFeed(nodeRed.url, n, first);
      // The feeder counts from 0 again on each start.
      await waitUntil(async () => (await probe(nodeRed.url)).completed >= n, 180_000, `${first + n} msgs fed`, 5);
      return Date.now();
    };
  } else {
    const core = variant === "Node-RED http request";
    const nodeRed = core
      ? await startNodeRed(coreSenderFlow(target, template, settings.inFlight), "sender-core")
      : variant === STORE_OUT
        ? await withRedis((url) => startNodeRed(outFlow(url), "sender-callback-out-redis", { profile: true }))
        : variant.endsWith(BEFORE)
          ? await startNodeRed(outFlow(), "sender-callback-out-before", { profile: true, pluginDir: beforeDir })
          : await startNodeRed(outFlow(), "sender-callback-out", { profile: true });
    running = nodeRed;
    send = async (first, n) => {
      await startFeed(nodeRed.url, n, first);
      return delivered(first + n);
    };
  }
  // Every variant first sends a warm-up share (its JIT and connections warm, as in a running
  // Node-RED), then the measured deliveries.
  const warmup = Math.min(settings.senderWarmup, Math.ceil(count / 5));
  try {
    await send(0, warmup);
    const cpuBefore = cpuUsOf(running.pid);
    const sinkCpuBefore = cpuUsOf(sink.pid);
    const started = Date.now();
    const ended = await send(warmup, count);
    const cpuUs = cpuUsOf(running.pid) - cpuBefore;
    const sinkCpuUs = cpuUsOf(sink.pid) - sinkCpuBefore;
    const seconds = (ended - started) / 1000;
    if (duplicates) notes.push(`sender ${variant}: ${duplicates} duplicate deliveries`);
    const busy = (us: number): number => us / seconds / 1e4;
    return {
      rate: count / seconds,
      rss: rssOf(running.pid).peak,
      cpuUs: cpuUs / count,
      sinkCpuUs: sinkCpuUs / count,
      busy: busy(cpuUs),
      sinkBusy: busy(sinkCpuUs),
      load: os.loadavg()[0] ?? NaN,
    };
  } finally {
    await running.stop();
    await sink.stop();
  }
}

async function senderSection(): Promise<void> {
  const table: Table = {
    title: `Sender (${settings.deliveries} deliveries of 1 KB, ${settings.inFlight} in flight, one local sink)`,
    metrics: [
      { key: "rate", label: "deliveries/s", higherIsBetter: true, digits: 0 },
      { key: "cpuUs", label: "CPU µs each", higherIsBetter: false, digits: 0 },
      { key: "sinkCpuUs", label: "sink CPU µs each", higherIsBetter: false, digits: 0 },
      { key: "busy", label: "sender busy %", higherIsBetter: false, digits: 0 },
      { key: "sinkBusy", label: "sink busy %", higherIsBetter: false, digits: 0 },
      { key: "rss", label: "peak RSS MiB", higherIsBetter: false, digits: 0 },
      { key: "load", label: "load avg", higherIsBetter: false, digits: 1 },
    ],
    variants: selected([
      "undici Pool (raw)",
      "Node-RED http request",
      ...withBefore("Node-RED callback out (outbox)"),
      STORE_OUT,
      FEED_ALONE,
    ]),
    runs: {},
  };
  tables.push(table);
  for (let round = 1; round <= settings.rounds; round++) {
    for (const variant of table.variants) {
      record(table, variant, { ...(await runSender(variant, settings.deliveries, 1024)) });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Growth: payload sizes through both nodes

async function growthSection(): Promise<void> {
  const sizes = [1, 100, 1024] as const;
  const inTable: Table = {
    title: `callback in by payload size (10 connections, ${settings.growthDuration} s per run)`,
    metrics: [
      { key: "rps", label: "req/s", higherIsBetter: true, digits: 0 },
      { key: "mbps", label: "MB/s", higherIsBetter: true, digits: 1 },
      { key: "p99", label: "p99 ms", higherIsBetter: false, digits: 1 },
      { key: "rss", label: "peak RSS MiB", higherIsBetter: false, digits: 0 },
    ],
    variants: sizes.map((kb) => `${kb} KB`),
    runs: {},
  };
  const outTable: Table = {
    title: `callback out by payload size (${settings.inFlight} in flight)`,
    metrics: [
      { key: "rate", label: "deliveries/s", higherIsBetter: true, digits: 0 },
      { key: "mbps", label: "MB/s", higherIsBetter: true, digits: 1 },
      { key: "count", label: "deliveries", higherIsBetter: true, digits: 0 },
      { key: "rss", label: "peak RSS MiB", higherIsBetter: false, digits: 0 },
    ],
    variants: sizes.map((kb) => `${kb} KB`),
    runs: {},
  };
  tables.push(inTable, outTable);
  for (const kb of sizes) {
    const bytes = kb * 1024;
    // maxBody is in KiB: leave room above the largest payload.
    const running = await startNodeRed(callbackInFlow(PATH, SECRET, { rateLimit: 0, maxBody: 2048 }), `growth-in-${kb}k`, {
      profile: true,
    });
    try {
      const load = await measureReceiver(
        running,
        bytes,
        { warmup: 1, duration: settings.growthDuration, connections: 10 },
        `growth callback in ${kb} KB`,
      );
      record(inTable, `${kb} KB`, { rps: load.rps, mbps: (load.rps * bytes) / 1e6, p99: load.p99, rss: load.rss });
    } finally {
      await running.stop();
    }
    const count = settings.growthDeliveries[kb];
    const sent = await runSender("Node-RED callback out (outbox)", count, bytes);
    record(outTable, `${kb} KB`, { rate: sent.rate, mbps: (sent.rate * bytes) / 1e6, count, rss: sent.rss });
  }
}

// ---------------------------------------------------------------------------------------------
// Queue: N callbacks pile up while the receiver does not answer, then it comes back

const FEEDER_ALONE = "feeder alone (msgs dropped)";
/**
 * V8 sets its old-space limit from the machine's memory and, far from that limit, leaves a burst's
 * garbage in place until the process idles; a 1 GB machine such as a small Raspberry Pi gets about
 * 256 MiB and V8 collects during the burst. This row is the same run with that limit.
 */
const SMALL_HEAP = "callback out, 256 MiB heap limit";
const SMALL_HEAP_ARGS = ["--max-old-space-size=256"];

async function queueSection(): Promise<void> {
  const table: Table = {
    title: `callback out: ${settings.queued} callbacks of 1 KB queued while the receiver is down`,
    metrics: [
      { key: "enqueueRate", label: "queued/s", higherIsBetter: true, digits: 0 },
      { key: "rssAdded", label: "RSS added MiB", higherIsBetter: false, digits: 0 },
      { key: "rssSettled", label: `settled ${settings.settleSeconds} s`, higherIsBetter: false, digits: 0 },
      { key: "rssAddedGc", label: "then GC", higherIsBetter: false, digits: 0 },
      { key: "heapAddedGc", label: "heap added MiB", higherIsBetter: false, digits: 0 },
      { key: "peak", label: "peak RSS MiB", higherIsBetter: false, digits: 0 },
      { key: "disk", label: "disk MiB", higherIsBetter: false, digits: 1 },
      { key: "drainRate", label: "drain/s", higherIsBetter: true, digits: 0 },
    ],
    // Last, the same feed with nothing queued: how much of the burst's RSS is the feed's own.
    variants: [...withBefore("callback out"), SMALL_HEAP, FEEDER_ALONE],
    runs: {},
  };
  tables.push(table);
  for (const variant of table.variants) await measureQueue(table, variant);
}

async function measureQueue(table: Table, variant: string): Promise<void> {
  const count = settings.queued;
  const feederAlone = variant === FEEDER_ALONE;
  // "Down" = accepts connections and never answers, the outage that hurts most; a long timeout keeps
  // only the node's 10 in-flight slots busy, so every other callback waits in the outbox.
  const sink = new FaultReceiver({ validate: false });
  await sink.start();
  sink.hold();
  const flows = callbackOutFlow(sink.url + PATH, callbackOfSize("exec_template", 1024), {
    concurrency: settings.inFlight,
    maxQueue: count + 1000,
    timeout: 600,
    window: 1000,
  });
  const running = await startNodeRed(feederAlone ? withoutCallbackOut(flows) : flows, feederAlone ? "queue-feeder" : "queue-callback-out", {
    profile: !feederAlone,
    gc: true,
    nodeArgs: variant === SMALL_HEAP ? SMALL_HEAP_ARGS : [],
    ...(variant.endsWith(BEFORE) ? { pluginDir: beforeDir } : {}),
  });
  try {
    await sleep(1000);
    const memBefore = await collectGarbage(running.url);
    const heapBefore = memBefore.heapUsed ?? NaN;
    const before = rssOf(running.pid).rss;
    const userDir = running.nodeRed?.userDir ?? "";
    const diskBefore = diskUsage(userDir);
    const started = Date.now();
    await startFeed(running.url, count);
    await waitUntil(async () => (await probe(running.url)).completed >= count, 600_000, `${count} callbacks acknowledged`, 250);
    const enqueueSeconds = (Date.now() - started) / 1000;
    // Let the last batched writes and any compaction settle before reading RSS and disk.
    await sleep(2000);
    const after = rssOf(running.pid);
    // What stays while the callbacks wait: V8 gives back the burst's garbage on its own once the
    // process idles, so RSS is read again after a settle time, with no forced GC.
    await sleep(settings.settleSeconds * 1000);
    const settled = rssOf(running.pid).rss;
    const memAfter = await collectGarbage(running.url);
    const heapAfter = memAfter.heapUsed ?? NaN;
    const mib = (m: Partial<NodeJS.MemoryUsage>): string =>
      (["rss", "heapTotal", "heapUsed", "external", "arrayBuffers"] as const)
        .map((k) => `${k} ${((m[k] ?? NaN) / 1048576).toFixed(0)}`)
        .join(", ");
    console.log(`  ${variant}: memory before (MiB): ${mib(memBefore)}; after, GC run: ${mib(memAfter)}`);
    const afterGc = rssOf(running.pid).rss;
    const disk = diskUsage(userDir) - diskBefore;
    const status = (await probe(running.url)).status;
    console.log(`  ${variant}: ${count} msgs in ${enqueueSeconds.toFixed(1)} s; node status: ${status?.text ?? "-"}`);
    let drainRate = NaN;
    if (!feederAlone) {
      const resumed = Date.now();
      sink.resume();
      await sink.waitForAccepted(count, 600_000);
      const drainSeconds = (sink.stats.lastAcceptedAt - resumed) / 1000;
      await waitUntil(async () => (await probe(running.url)).outputs[0] >= count, 120_000, "every delivered msg", 250);
      drainRate = count / drainSeconds;
      const outbox = diskUsage(userDir) - diskBefore;
      console.log(`  drained in ${drainSeconds.toFixed(1)} s; disk used after the drain: ${(outbox / 1024 / 1024).toFixed(1)} MiB`);
    }
    record(table, variant, {
      enqueueRate: count / enqueueSeconds,
      rssAdded: after.rss - before,
      rssSettled: settled - before,
      rssAddedGc: afterGc - before,
      heapAddedGc: (heapAfter - heapBefore) / 1048576,
      peak: rssOf(running.pid).peak,
      disk: disk / 1024 / 1024,
      drainRate,
    });
  } finally {
    await running.stop();
    await sink.stop();
  }
}

// ---------------------------------------------------------------------------------------------

/** The store's goal: at least half of what the same node does without a store. */
function storeGoal(what: string, withStore: number | undefined, without: number | undefined): string {
  const ratio = (withStore ?? NaN) / (without ?? NaN);
  return `${what} with a Redis store = ${ratio.toFixed(2)}x the same node without (goal >= 0.5x): ${ratio >= 0.5 ? "met" : "NOT met"}`;
}

/**
 * `variant` against `baseline` round by round: each round runs them one after the other, so each
 * round's ratio compares the two under the same machine load, which on a shared VM drifts between
 * rounds more than the two differ. Also the ratio of the two medians, for comparison.
 */
function pairedRatios(table: Table, variant: string, baseline: string, key: string): { median: number; each: number[]; ofMedians: number } {
  const ours = table.runs[variant] ?? [];
  const theirs = table.runs[baseline] ?? [];
  const each = ours.map((row, round) => (row[key] ?? NaN) / (theirs[round]?.[key] ?? NaN));
  const ofMedians = median(ours.map((row) => row[key] ?? NaN)) / median(theirs.map((row) => row[key] ?? NaN));
  return { median: median(each), each, ofMedians };
}

/** Median share of its core (%) the raw undici client must use for callback out's goal against it to be judged. */
const RAW_BUSY_TO_JUDGE = 80;

/** The goals in docs/benchmarks.md, judged on this run's medians. */
function goals(): string[] {
  const find = (title: string): ReturnType<typeof summarise> | undefined => {
    const table = tables.find((t) => t.title.startsWith(title));
    return table ? summarise(table) : undefined;
  };
  const verdict = (ok: boolean): string => (ok ? "met" : "NOT met");
  const lines: string[] = [];
  const receiver = find("Receiver");
  if (receiver) {
    const core = receiver.find((r) => r.variant === "Node-RED core nodes");
    const express = receiver.find((r) => r.variant === "Express express.json()");
    const ours = receiver.find((r) => r.variant === "Node-RED callback in");
    if (express && ours) {
      const ratio = (ours.median.rps ?? NaN) / (express.median.rps ?? NaN);
      lines.push(`callback in req/s = ${ratio.toFixed(2)}x the Express handler's (goal >= 1.00x, at least level): ${verdict(ratio >= 1)}`);
    }
    if (core && ours) {
      const p99 = (ours.median.p99 ?? NaN) < (core.median.p99 ?? NaN);
      lines.push(
        `callback in p99 ${ours.median.p99?.toFixed(1)} ms vs the core-node flow's ${core.median.p99?.toFixed(1)} ms (goal lower): ${verdict(p99)}`,
      );
    }
    const table = tables.find((t) => t.title.startsWith("Receiver"));
    for (const variant of [OWN_PORT, OWN_PORT_HTTPS]) {
      if (!table?.runs[variant] || !table.runs[BARE]) continue;
      const rps = pairedRatios(table, variant, BARE, "rps");
      const p99 = pairedRatios(table, variant, BARE, "p99");
      // Judged for plain HTTP (issue 13); HTTPS is reported beside it against the same plain bare server.
      const judged = variant === OWN_PORT ? `: ${verdict(rps.median >= 0.5 && p99.median <= 2)}` : " (reported, not judged)";
      lines.push(
        `${variant}: req/s ${rps.median.toFixed(2)}x, p99 ${p99.median.toFixed(2)}x the bare node:http server's, ` +
          `median of each round's ratio (goal >= 0.5x and <= 2x)${judged}; ` +
          `rounds ${rps.each.map((r) => r.toFixed(2)).join(" ")} and ${p99.each.map((r) => r.toFixed(2)).join(" ")}; ` +
          `ratio of the medians ${rps.ofMedians.toFixed(2)}x and ${p99.ofMedians.toFixed(2)}x`,
      );
    }
  }
  const sender = find("Sender");
  if (sender) {
    const raw = sender.find((r) => r.variant === "undici Pool (raw)");
    const ours = sender.find((r) => r.variant === "Node-RED callback out (outbox)");
    const table = tables.find((t) => t.title.startsWith("Sender"));
    if (raw && ours && table) {
      // Judged round by round, as the own port is: both ran in the same round, under the same load.
      const rate = pairedRatios(table, ours.variant, raw.variant, "rate");
      const cpu = pairedRatios(table, ours.variant, raw.variant, "cpuUs");
      // The baseline is only a limit when it has its core: on a loaded machine the scheduler sets
      // every variant's pace, and the light raw client loses the most to it.
      const rawBusy = raw.median.busy ?? NaN;
      const judged =
        rawBusy >= RAW_BUSY_TO_JUDGE
          ? verdict(rate.median >= 0.5)
          : `not judged, raw undici was busy ${cell(rawBusy, 0)}% of its core (load average ${cell(raw.median.load, 1)}): the machine's load set the pace, not the sender`;
      lines.push(
        `callback out deliveries/s = ${rate.median.toFixed(2)}x raw undici's, median of each round's ratio (goal >= 0.5x): ` +
          `${judged}; rounds ${rate.each.map((r) => r.toFixed(2)).join(" ")}; ratio of the medians ${rate.ofMedians.toFixed(2)}x; ` +
          `CPU a delivery ${cpu.median.toFixed(1)}x undici's (rounds ${cpu.each.map((r) => r.toFixed(1)).join(" ")}); ` +
          `undici busy ${cell(raw.median.busy, 0)}% of a core, its sink ${cell(raw.median.sinkBusy, 0)}%`,
      );
    }
    const stored = sender.find((r) => r.variant === STORE_OUT);
    if (ours && stored) lines.push(storeGoal("callback out deliveries/s", stored.median.rate, ours.median.rate));
  }
  if (receiver) {
    const plain = receiver.find((r) => r.variant === "Node-RED callback in");
    const stored = receiver.find((r) => r.variant === STORE_IN);
    if (plain && stored) lines.push(storeGoal("callback in req/s", stored.median.rps, plain.median.rps));
  }
  const queue = find("callback out:");
  if (queue) {
    const ours = queue.find((row) => row.variant === "callback out");
    const small = queue.find((row) => row.variant === SMALL_HEAP);
    const settled = ours?.median.rssSettled ?? NaN;
    const added = ours?.median.rssAdded ?? NaN;
    const smallAdded = small?.median.rssAdded ?? NaN;
    // 150 MB (10^6 bytes) in MiB.
    const goal = 150e6 / 1048576;
    // Judged on what stays while the callbacks wait (settled, no forced GC) and right after the burst
    // with a small machine's heap limit; the default heap's figure right after the burst is printed too.
    lines.push(
      settings.queued === 100_000
        ? `100,000 queued 1 KB callbacks add ${settled.toFixed(0)} MiB of RSS once settled and ${smallAdded.toFixed(0)} MiB right after the burst with a 256 MiB heap limit (goal <= 150 MB = ${goal.toFixed(0)} MiB for both): ${verdict(settled <= goal && smallAdded <= goal)}; ${added.toFixed(0)} MiB right after the burst with the default heap limit`
        : `queue goal is for 100,000 callbacks; this run queued ${settings.queued} (RSS +${settled.toFixed(0)} MiB settled, +${smallAdded.toFixed(0)} with a 256 MiB heap limit), not judged`,
    );
  }
  return lines;
}

async function main(): Promise<void> {
  const machine = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? "",
    memoryGiB: +(os.totalmem() / 1024 ** 3).toFixed(1),
    node: process.version,
    nodeRed: nodeRedVersion(),
    platform: `${os.type()} ${os.release()}`,
  };
  console.log(`bench: ${quick ? "quick" : "full"} mode, ${settings.rounds} rounds, ${JSON.stringify(machine)}`);
  const started = Date.now();
  if (sections.has("receiver")) await receiverSection();
  if (sections.has("sender")) await senderSection();
  if (sections.has("growth")) await growthSection();
  if (sections.has("queue")) await queueSection();
  for (const table of tables) printTable(table);
  const verdicts = goals();
  if (verdicts.length) console.log(`\nGoals:\n${verdicts.map((l) => `- ${l}`).join("\n")}`);
  if (notes.length) console.log(`\nNotes:\n${notes.map((l) => `- ${l}`).join("\n")}`);
  const profiles: ProfileSummary[] = [];
  if (profiling) {
    for (const file of readdirSync(profileDir).filter((f) => f.endsWith(".cpuprofile"))) {
      const summary = summariseProfile(path.join(profileDir, file), 15, profileLastMs);
      printProfileSummary(summary);
      profiles.push(summary);
    }
  }
  const seconds = (Date.now() - started) / 1000;
  console.log(`\nbench took ${seconds.toFixed(0)} s`);
  mkdirSync(resultsDir, { recursive: true });
  const file = path.join(resultsDir, `bench-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        mode: quick ? "quick" : "full",
        settings,
        machine,
        seconds,
        goals: verdicts,
        notes,
        tables: tables.map((t) => ({ title: t.title, metrics: t.metrics, runs: t.runs, summary: summarise(t) })),
        profiles,
      },
      null,
      2,
    ),
  );
  console.log(`results written to ${path.relative(repoRoot, file)}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
