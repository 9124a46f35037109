// The seed document's example payload for each status, for "simulate" on callback in: a flow can
// be tried before any agent exists. Each gets a fresh execution_id so dedupe never hides it.
import { samplePayload, type CallbackPayload } from "../shared/payload";
import { randomHex } from "../shared/random-hex";
import type { SimulatedStatus } from "../shared/deliveries-api";

export const SIMULATED_STATUSES: readonly SimulatedStatus[] = ["completed", "failed", "timeout"];

export function isSimulatedStatus(value: unknown): value is SimulatedStatus {
  return typeof value === "string" && (SIMULATED_STATUSES as readonly string[]).includes(value);
}

export function simulatedPayload(status: SimulatedStatus): CallbackPayload {
  const payload: CallbackPayload = { ...samplePayload(), execution_id: `exec_sim_${randomHex(8)}`, status };
  // The seed's "Status Values" examples for the two unhappy outcomes.
  if (status === "failed") return { ...payload, result: null, error: "Tool call failed: HTTP 500 from API" };
  if (status === "timeout") return { ...payload, result: { output: "Partial result..." }, error: "Execution timeout after 300 seconds" };
  return payload;
}
