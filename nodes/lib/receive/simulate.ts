// What "simulate" on callback in sends, so that a flow can be tried before any agent exists: the
// seed document's example payload for each status, or a platform's made-up event (samples.ts).
// Each gets a fresh execution_id so dedupe never hides it.
import { CALLBACK_STATUSES, samplePayload, type CallbackPayload } from "../shared/payload";
import { randomHex } from "../shared/random-hex";
import type { SimulatedStatus } from "../shared/deliveries-api";
import { callbackTopic, type Reading, type SourceName } from "./sources/source";
import { anthropicSample, openAiSample } from "./sources/samples";

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

/** What simulate sends for the node's sender: as a real request of that sender would be read. */
export function simulatedReading(source: SourceName, status: SimulatedStatus): Reading {
  if (source === "openai") return openAiSample(status);
  if (source === "anthropic") return anthropicSample(status);
  const payload = simulatedPayload(status);
  return { key: payload.execution_id, output: CALLBACK_STATUSES.indexOf(status), payload, topic: callbackTopic(payload) };
}
