// The small fixed set of label values the metrics use, so that a series' count stays bounded
// whatever causes callback in learns to tell apart later (the sidebar keeps the precise cause).
import type { RejectCause } from "../receive/receiver";

/** agent_callback_in_requests_total's `outcome`. */
export const REQUEST_OUTCOMES = [
  "accepted",
  "duplicate",
  "unauthorized",
  "invalid",
  "too_large",
  "rate_limited",
  "busy",
  "unavailable",
  "aborted",
  "error",
] as const;
export type RequestMetricOutcome = (typeof REQUEST_OUTCOMES)[number];

/** agent_callback_out_attempts_total's `result`: each attempt is counted once. */
export const ATTEMPT_RESULTS = ["delivered", "failed", "gave_up"] as const;
export type AttemptResult = (typeof ATTEMPT_RESULTS)[number];

/** agent_callback_in_emitted_total's `status`: the output the msg left on. */
export const EMITTED_STATUSES = ["completed", "failed", "timeout", "other"] as const;
export type EmittedStatus = (typeof EMITTED_STATUSES)[number];

/** Every outcome callback in reports: the compiler asks for a line here when a new refusal cause appears. */
const BY_CAUSE: Readonly<Record<"accepted" | "duplicate" | RejectCause, RequestMetricOutcome>> = {
  accepted: "accepted",
  duplicate: "duplicate",
  // The secret or signature checks (verify.ts's VerifyFailure).
  "no-secret-configured": "unauthorized",
  "missing-secret": "unauthorized",
  "wrong-secret": "unauthorized",
  "missing-signature": "unauthorized",
  "malformed-signature": "unauthorized",
  "wrong-signature": "unauthorized",
  "missing-webhook-headers": "unauthorized",
  "bad-timestamp": "unauthorized",
  "stale-timestamp": "unauthorized",
  "unsupported-media-type": "invalid",
  "invalid-json": "invalid",
  "invalid-payload": "invalid",
  "too-large": "too_large",
  "rate-limited": "rate_limited",
  "client-rate-limited": "rate_limited",
  busy: "busy",
  pending: "busy",
  "store-unavailable": "unavailable",
  aborted: "aborted",
  // The request's body was already read by other middleware: answered 500, our fault, not the sender's.
  consumed: "error",
};

/** The metric's outcome for a request outcome or refusal cause of callback in; "error" for any other. */
export function requestMetricOutcome(cause: string): RequestMetricOutcome {
  return Object.hasOwn(BY_CAUSE, cause) ? BY_CAUSE[cause as keyof typeof BY_CAUSE] : "error";
}

/** The metric's status for a msg sent on output `output` (0 completed, 1 failed, 2 timeout, else a platform's other events). */
export function emittedStatus(output: number): EmittedStatus {
  return EMITTED_STATUSES[output] ?? "other";
}
