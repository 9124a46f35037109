// A callback's kept attempts with the one that just ended added (bounded, see shared/attempts.ts).
import { attemptRecord, withAttempt } from "../shared/attempts";
import type { AttemptRecord } from "../shared/views";
import type { DeliveryResult } from "./deliver";

export function historyWith(
  history: readonly AttemptRecord[] | undefined,
  result: DeliveryResult,
  now: () => number = Date.now,
): AttemptRecord[] {
  return withAttempt(history, attemptRecord(result.startedAt ?? now(), result.ms ?? 0, result));
}
