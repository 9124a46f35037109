// The Prometheus metrics of every callback in / callback out node of this Node-RED, in a
// prom-client Registry of our own (Node-RED may host other users of prom-client's global one).
// Nodes count into plain numbers (a request costs an array increment, no label hashing); the
// counters and gauges read them when scraped, and the admin route (nodes/plugins/metrics-route.ts)
// renders the text. Each series carries the node's id and name; a removed node drops its series.
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { ATTEMPT_RESULTS, EMITTED_STATUSES, REQUEST_OUTCOMES, emittedStatus, requestMetricOutcome, type AttemptResult } from "./outcomes";

const registry = new Registry();
const NODE_LABELS = ["node_id", "node_name"] as const;

/** What a callback out node reports when asked at scrape time. */
export interface OutGauges {
  /** Callbacks waiting in its outbox. */
  waiting(): number;
  /** Whether its receiver is paused. */
  paused(): boolean;
}

/** One node's counts, each array indexed like its label values in outcomes.ts. */
interface NodeCounts {
  name: string;
  requests: number[];
  emitted: number[];
  attempts: number[];
  /** Whether the histogram has a series of this node. */
  observed: boolean;
  gauges?: OutGauges;
}

const nodes = new Map<string, NodeCounts>();

type Labels = { node_id: string; node_name: string };

/** Calls `each` with every node's labels and counts. */
function eachNode(each: (labels: Labels, counts: NodeCounts) => void): void {
  for (const [id, counts] of nodes) each({ node_id: id, node_name: counts.name }, counts);
}

/** A counter whose values are the nodes' counts under `pick`, label `label` taking `values`. */
function countsCounter(name: string, help: string, label: string, values: readonly string[], pick: (c: NodeCounts) => number[]): void {
  new Counter({
    name,
    help,
    labelNames: [...NODE_LABELS, label],
    registers: [registry],
    collect() {
      this.reset();
      eachNode((labels, counts) =>
        pick(counts).forEach((value, index) => {
          if (value > 0) this.inc({ ...labels, [label]: values[index] as string }, value);
        }),
      );
    },
  });
}

countsCounter(
  "agent_callback_in_requests_total",
  "Requests callback in answered, by outcome (accepted, duplicate, or the refusal's cause).",
  "outcome",
  REQUEST_OUTCOMES,
  (c) => c.requests,
);
countsCounter(
  "agent_callback_in_emitted_total",
  "Callbacks callback in sent into the flow, by the output's status.",
  "status",
  EMITTED_STATUSES,
  (c) => c.emitted,
);
countsCounter(
  "agent_callback_out_attempts_total",
  "Delivery attempts of callback out, by result: delivered, failed (tried again later) or gave_up (the last one).",
  "result",
  ATTEMPT_RESULTS,
  (c) => c.attempts,
);

const deliverySeconds = new Histogram({
  name: "agent_callback_out_delivery_seconds",
  help: "How long an attempt of callback out took, until the receiver's reply or the error.",
  labelNames: [...NODE_LABELS],
  buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  registers: [registry],
});

/** A gauge read from each callback out node at scrape time. */
function outGauge(name: string, help: string, read: (gauges: OutGauges) => number): void {
  new Gauge({
    name,
    help,
    labelNames: [...NODE_LABELS],
    registers: [registry],
    collect() {
      this.reset();
      eachNode((labels, counts) => {
        if (counts.gauges) this.set(labels, read(counts.gauges));
      });
    },
  });
}

outGauge("agent_callback_out_waiting", "Callbacks waiting in callback out's outbox.", (g) => g.waiting());
outGauge("agent_callback_out_paused", "1 while callback out's receiver is paused after failing attempts, else 0.", (g) =>
  g.paused() ? 1 : 0,
);

/** The node's counts; a new name drops the series under the old one (the name is a label). */
function countsOf(id: string, name: string): NodeCounts {
  const found = nodes.get(id);
  if (found?.name === name) return found;
  if (found) dropSeries(id);
  const zeros = (values: readonly string[]): number[] => values.map(() => 0);
  const made: NodeCounts = {
    name,
    requests: zeros(REQUEST_OUTCOMES),
    emitted: zeros(EMITTED_STATUSES),
    attempts: zeros(ATTEMPT_RESULTS),
    observed: false,
  };
  nodes.set(id, made);
  return made;
}

/** Forgets every series of node `id` (a node removed by a deploy). */
export function dropSeries(id: string): void {
  const found = nodes.get(id);
  if (!found) return;
  nodes.delete(id);
  if (found.observed) deliverySeconds.remove({ node_id: id, node_name: found.name });
}

function bump(values: number[], index: number): void {
  values[index] = (values[index] ?? 0) + 1;
}

export interface InMetrics {
  /** A request answered: accepted, duplicate or a refusal's cause. */
  request(cause: string): void;
  /** A msg sent on output `output`. */
  emitted(output: number): void;
}

export function inMetrics(id: string, name: string): InMetrics {
  const counts = countsOf(id, name);
  return {
    request: (cause) => bump(counts.requests, REQUEST_OUTCOMES.indexOf(requestMetricOutcome(cause))),
    emitted: (output) => bump(counts.emitted, EMITTED_STATUSES.indexOf(emittedStatus(output))),
  };
}

export interface OutMetrics {
  /** An attempt ended: how it counts. */
  attempted(result: AttemptResult): void;
  /** An attempt took `seconds`. */
  duration(seconds: number): void;
}

/** callback out's recorders; `gauges` is read at each scrape until the node's series are dropped. */
export function outMetrics(id: string, name: string, gauges: OutGauges): OutMetrics {
  const labels = { node_id: id, node_name: name };
  const counts = countsOf(id, name);
  counts.gauges = gauges;
  return {
    attempted: (result) => bump(counts.attempts, ATTEMPT_RESULTS.indexOf(result)),
    duration: (seconds) => {
      counts.observed = true;
      deliverySeconds.observe(labels, seconds);
    },
  };
}

/** The Prometheus text exposition of every series. */
export function metricsText(): Promise<string> {
  return registry.metrics();
}

export const METRICS_CONTENT_TYPE: string = registry.contentType;
