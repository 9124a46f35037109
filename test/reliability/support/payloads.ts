// Payloads for load and reliability runs: the seed's sample with a unique execution_id and an
// output padded to a chosen size, so every variant sends the same bytes.
import { samplePayload, type CallbackPayload, type CallbackStatus, CALLBACK_STATUSES } from "../../../nodes/lib/shared/payload";

/** The seed's sample with `execution_id` = id, status rotated by `index`, and its JSON about `bytes` long. */
export function callbackOfSize(id: string, bytes = 1024, index = 0): CallbackPayload {
  const payload = samplePayload();
  payload.execution_id = id;
  payload.status = CALLBACK_STATUSES[index % CALLBACK_STATUSES.length] as CallbackStatus;
  const base = Buffer.byteLength(JSON.stringify(payload));
  const pad = Math.max(0, bytes - base);
  if (payload.result) payload.result.output = (payload.result.output ?? "") + "x".repeat(pad);
  return payload;
}

/** A deterministic PRNG (mulberry32) so a failing run can be replayed with the same seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
