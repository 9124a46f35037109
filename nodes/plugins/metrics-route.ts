// GET <httpAdminRoot>/agent-callback/metrics: the nodes' metrics in the Prometheus text format,
// for a Prometheus server to scrape (with adminAuth, as a user with agent-callback.read, its token
// as a bearer token). `agentCallbackMetrics: false` in settings.js leaves the route out (404).
import type { NodeAPI } from "../lib/shared/node-red-types";
import { METRICS_CONTENT_TYPE, metricsText } from "../lib/metrics/registry";

export const METRICS_PATH = "/agent-callback/metrics";

/** Whether settings.js allows the route: on unless `agentCallbackMetrics` is false. */
export function metricsEnabled(RED: Pick<NodeAPI, "settings">): boolean {
  return RED.settings.agentCallbackMetrics !== false;
}

export function registerMetricsRoute(RED: NodeAPI): void {
  if (!metricsEnabled(RED)) return;
  RED.httpAdmin.get(METRICS_PATH, RED.auth.needsPermission("agent-callback.read"), (_req, res) => {
    metricsText().then(
      (text) => void res.set("Content-Type", METRICS_CONTENT_TYPE).send(text),
      (err: unknown) =>
        void res
          .status(500)
          .type("text/plain")
          .send(err instanceof Error ? err.message : String(err)),
    );
  });
}
