// An attempt's duration for the metrics (agent_callback_out_delivery_seconds), measured around
// the send itself so that time waiting in the queue is not counted.
import type { DeliveryResult } from "./deliver";
import type { SenderMetrics } from "./types";

export function timed(metrics: SenderMetrics | undefined, send: () => Promise<DeliveryResult>): Promise<DeliveryResult> {
  if (!metrics) return send();
  const started = performance.now();
  return send().then((result) => {
    metrics.duration((performance.now() - started) / 1000);
    return result;
  });
}
