// Which delivery outcomes are retried, and when the next attempt is due.
//
// The default schedule is Svix's: at once, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h
// (8 tries over about 27 hours), so a receiver that is down for a day still gets its callbacks.

export const DEFAULT_RETRY_SCHEDULE: readonly number[] = [5, 300, 1800, 7200, 18000, 36000, 36000];

/** ±20 % on each scheduled delay, so callbacks queued together do not all retry at once. */
export const JITTER = 0.2;

/** A Retry-After longer than this is taken as this: a broken date must not park a callback for years. */
export const MAX_RETRY_AFTER_SECONDS = 24 * 60 * 60;

/** What one attempt came to, as far as retrying is concerned. */
export type AttemptOutcome =
  | { kind: "response"; statusCode: number; retryAfter?: string | undefined }
  | { kind: "network"; error: string }
  | { kind: "timeout"; error: string }
  /** The request cannot be made as it is, now or later (a header value it cannot carry, an origin no longer allowed). */
  | { kind: "refused"; error: string };

export type Verdict = "delivered" | "retry" | "give-up";

/**
 * 2xx delivered; network errors, timeouts, 408, 425, 429 and 5xx retried; 410 never (the receiver
 * says the endpoint is gone); 3xx is a failure that is not retried (redirects are not followed, the
 * URL needs fixing); other 4xx retried only when `retry4xx`; a request refused before it was sent
 * is given up at once (retrying cannot change it).
 */
export function classify(outcome: AttemptOutcome, retry4xx: boolean): Verdict {
  if (outcome.kind === "refused") return "give-up";
  if (outcome.kind !== "response") return "retry";
  const code = outcome.statusCode;
  if (code >= 200 && code < 300) return "delivered";
  if (code === 410) return "give-up";
  if (code === 408 || code === 425 || code === 429) return "retry";
  if (code >= 500) return "retry";
  if (code >= 400) return retry4xx ? "retry" : "give-up";
  return "give-up";
}

/** What a delivery loop does after an attempt; both loops (the file queue, the store queue) ask here. */
export type Decision =
  | { kind: "delivered" }
  /** A manual attempt ("retry now") failed: back where it was, so that presses never use up the schedule. */
  | { kind: "back" }
  | { kind: "retry"; delayMs: number }
  | { kind: "give-up" };

export interface RetryRule {
  schedule: readonly number[];
  retry4xx: boolean;
  random?: (() => number) | undefined;
}

/**
 * The one retry decision after attempt number `attempts`. A test attempt of a paused receiver
 * (receiver-health.ts) that fails goes back like a manual one: paused time never uses up a
 * callback's schedule; a 410 or a 4xx not retried still gives that callback up.
 */
export function decide(
  result: { outcome: AttemptOutcome; retryAfterSeconds?: number | undefined },
  attempts: number,
  rule: RetryRule,
  manual: boolean,
  test = false,
): Decision {
  const verdict = classify(result.outcome, rule.retry4xx);
  const delayMs = verdict === "retry" ? nextDelayMs(rule.schedule, attempts, result.retryAfterSeconds, rule.random) : undefined;
  if (verdict === "delivered") return { kind: "delivered" };
  if (manual || (test && verdict === "retry")) return { kind: "back" };
  return delayMs === undefined ? { kind: "give-up" } : { kind: "retry", delayMs };
}

/** Replies whose Retry-After holds every callback to that receiver, not only the one answered. */
const RECEIVER_WIDE_RETRY_AFTER: ReadonlySet<number> = new Set([429, 502, 503]);

/**
 * How an attempt counts for its receiver's health: only a failure worth retrying counts toward a
 * pause, and a 429, 502 or 503 with Retry-After holds the receiver for that long.
 */
export function attemptEnd(
  result: { outcome: AttemptOutcome; retryAfterSeconds?: number | undefined },
  retry4xx: boolean,
): { end: "delivered" | "failed" | "other"; holdSeconds: number | undefined } {
  const verdict = classify(result.outcome, retry4xx);
  const end = verdict === "delivered" ? "delivered" : verdict === "retry" ? "failed" : "other";
  const code = result.outcome.kind === "response" ? result.outcome.statusCode : 0;
  return { end, holdSeconds: RECEIVER_WIDE_RETRY_AFTER.has(code) ? result.retryAfterSeconds : undefined };
}

/**
 * Retry-After in seconds: either delay-seconds or an HTTP date (RFC 9110 section 10.2.3).
 * Undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (text === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.min(Number(text), MAX_RETRY_AFTER_SECONDS);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.min(Math.max(0, (date - now) / 1000), MAX_RETRY_AFTER_SECONDS);
}

/**
 * Milliseconds to wait before the next attempt after `attemptsMade` attempts, or undefined when
 * the schedule is exhausted. The wait is the larger of the jittered scheduled delay and
 * Retry-After.
 */
export function nextDelayMs(
  schedule: readonly number[],
  attemptsMade: number,
  retryAfterSeconds?: number,
  random: () => number = Math.random,
): number | undefined {
  const base = schedule[attemptsMade - 1];
  if (base === undefined || attemptsMade < 1) return undefined;
  const jittered = base * (1 - JITTER + 2 * JITTER * random());
  const wait = Math.max(jittered, retryAfterSeconds ?? 0);
  return Math.round(wait * 1000);
}

/** A refused schedule names the catalog message (errors.*) and its substitutions, for the node to translate. */
export type ScheduleCheck =
  | { ok: true; schedule: number[] }
  | { ok: false; key: "errors.bad-schedule"; substitutions: { delay: number; value: string } }
  | { ok: false; key: "errors.bad-schedule-type"; substitutions: Record<string, never> };

/**
 * Reads a schedule from flow JSON (array of numbers) or from the editor's comma list. Each delay
 * must be a number of seconds >= 0.
 */
export function parseSchedule(value: unknown): ScheduleCheck {
  let parts: unknown[];
  if (Array.isArray(value)) parts = value;
  else if (typeof value === "string") {
    const text = value.trim();
    parts = text === "" ? [] : text.split(",").map((part) => part.trim());
  } else if (value === undefined || value === null) return { ok: true, schedule: [...DEFAULT_RETRY_SCHEDULE] };
  else return { ok: false, key: "errors.bad-schedule-type", substitutions: {} };
  const schedule: number[] = [];
  for (const [index, part] of parts.entries()) {
    const number = typeof part === "number" ? part : typeof part === "string" && part !== "" ? Number(part) : NaN;
    if (!Number.isFinite(number) || number < 0) {
      return { ok: false, key: "errors.bad-schedule", substitutions: { delay: index + 1, value: String(part) } };
    }
    schedule.push(number);
  }
  return { ok: true, schedule };
}
