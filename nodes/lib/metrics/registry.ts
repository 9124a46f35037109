// The Prometheus metrics of every callback in / callback out node of this Node-RED, in a
// prom-client Registry of our own (Node-RED may host other users of prom-client's global one).
// Nodes record through the small recorders below; the admin route (nodes/plugins/metrics-route.ts)
// renders the text. Each series carries the node's id and name; a removed node drops its series.
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { emittedStatus, requestMetricOutcome, type AttemptResult } from "./outcomes";

const registry = new Registry();
const NODE_LABELS = ["node_id", "node_name"] as const;

/** What a callback out node reports when asked at scrape time. */
export interface OutGauges {
  /** Callbacks waiting in its outbox. */
  waiting(): number;
  /** Whether its receiver is paused. */
  paused(): boolean;
}

interface OutSource extends OutGauges {
  name: string;
}

/** Scrape-time readings of the running callback out nodes, by node id. */
const outSources = new Map<string, OutSource>();

const requests = new Counter({
  name: "agent_callback_in_requests_total",
  help: "Requests callback in answered, by outcome (accepted, duplicate, or the refusal's cause).",
  labelNames: [...NODE_LABELS, "outcome"],
  registers: [registry],
});
const emitted = new Counter({
  name: "agent_callback_in_emitted_total",
  help: "Callbacks callback in sent into the flow, by the output's status.",
  labelNames: [...NODE_LABELS, "status"],
  registers: [registry],
});
const attempts = new Counter({
  name: "agent_callback_out_attempts_total",
  help: "Delivery attempts of callback out, by result: delivered, failed (tried again later) or gave_up (the last one).",
  labelNames: [...NODE_LABELS, "result"],
  registers: [registry],
});
const deliverySeconds = new Histogram({
  name: "agent_callback_out_delivery_seconds",
  help: "How long an attempt of callback out took, until the receiver's reply or the error.",
  labelNames: [...NODE_LABELS],
  buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  registers: [registry],
});
new Gauge({
  name: "agent_callback_out_waiting",
  help: "Callbacks waiting in callback out's outbox.",
  labelNames: [...NODE_LABELS],
  registers: [registry],
  collect() {
    this.reset();
    for (const [id, source] of outSources) this.set({ node_id: id, node_name: source.name }, source.waiting());
  },
});
new Gauge({
  name: "agent_callback_out_paused",
  help: "1 while callback out's receiver is paused after failing attempts, else 0.",
  labelNames: [...NODE_LABELS],
  registers: [registry],
  collect() {
    this.reset();
    for (const [id, source] of outSources) this.set({ node_id: id, node_name: source.name }, source.paused() ? 1 : 0);
  },
});

/** The label values a node has used on each counter, to remove exactly its series. */
interface NodeSeries {
  name: string;
  outcomes: Set<string>;
  statuses: Set<string>;
  results: Set<string>;
  observed: boolean;
}

const series = new Map<string, NodeSeries>();

/** The node's series; a new name drops the series under the old one (the name is a label). */
function seriesOf(id: string, name: string): NodeSeries {
  const found = series.get(id);
  if (found?.name === name) return found;
  if (found) dropSeries(id);
  const made: NodeSeries = { name, outcomes: new Set(), statuses: new Set(), results: new Set(), observed: false };
  series.set(id, made);
  return made;
}

/** Forgets every series of node `id` (a node removed by a deploy). */
export function dropSeries(id: string): void {
  const found = series.get(id);
  outSources.delete(id);
  if (!found) return;
  series.delete(id);
  const labels = { node_id: id, node_name: found.name };
  for (const outcome of found.outcomes) requests.remove({ ...labels, outcome });
  for (const status of found.statuses) emitted.remove({ ...labels, status });
  for (const result of found.results) attempts.remove({ ...labels, result });
  if (found.observed) deliverySeconds.remove(labels);
}

export interface InMetrics {
  /** A request answered: accepted, duplicate or a refusal's cause. */
  request(cause: string): void;
  /** A msg sent on output `output`. */
  emitted(output: number): void;
}

export function inMetrics(id: string, name: string): InMetrics {
  const labels = { node_id: id, node_name: name };
  const own = seriesOf(id, name);
  // A child per label value, made once: no label object is built at every request.
  const byOutcome = new Map<string, Counter.Internal>();
  const byStatus = new Map<string, Counter.Internal>();
  return {
    request: (cause) => {
      const outcome = requestMetricOutcome(cause);
      let child = byOutcome.get(outcome);
      if (!child) {
        own.outcomes.add(outcome);
        child = requests.labels({ ...labels, outcome });
        byOutcome.set(outcome, child);
      }
      child.inc();
    },
    emitted: (output) => {
      const status = emittedStatus(output);
      let child = byStatus.get(status);
      if (!child) {
        own.statuses.add(status);
        child = emitted.labels({ ...labels, status });
        byStatus.set(status, child);
      }
      child.inc();
    },
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
  const own = seriesOf(id, name);
  outSources.set(id, { name, waiting: () => gauges.waiting(), paused: () => gauges.paused() });
  return {
    attempted: (result) => {
      own.results.add(result);
      attempts.inc({ ...labels, result });
    },
    duration: (seconds) => {
      own.observed = true;
      deliverySeconds.observe(labels, seconds);
    },
  };
}

/** The Prometheus text exposition of every series. */
export function metricsText(): Promise<string> {
  return registry.metrics();
}

export const METRICS_CONTENT_TYPE: string = registry.contentType;
