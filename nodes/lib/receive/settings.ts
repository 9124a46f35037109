// The "callback in" node's properties, read from the flow JSON (the editor stores numbers as
// strings) and checked once when the node starts. Bad numbers follow the one policy of both nodes
// (numberOrDefault): the default is used and the problem is handed back for the log and the status.
import { numberOrDefault, text, type NumberReading, type NumberRule } from "../shared/config-values";
import { splitSecrets, standardWebhooksKeyBytes } from "../shared/sign";
import { isVerifyMode, type VerifyMode } from "./verify";

/** The node's properties as they appear in flows.json. */
export interface CallbackInConfig {
  url?: unknown;
  verify?: unknown;
  secretHeader?: unknown;
  tolerance?: unknown;
  dedupe?: unknown;
  dedupeTtl?: unknown;
  rateLimit?: unknown;
  maxBody?: unknown;
  respond?: unknown;
  trustProxy?: unknown;
  maxPending?: unknown;
}

export const DEFAULT_URL = "/agent-results";
export const DEFAULT_SECRET_HEADER = "X-Webhook-Secret";

export interface ReceiveSettings {
  /** Path below httpNodeRoot, always starting with "/". */
  url: string;
  verify: VerifyMode;
  /** Accepted secrets / keys (several while rotating). */
  secrets: string[];
  secretHeader: string;
  toleranceSeconds: number;
  dedupe: boolean;
  dedupeTtlMs: number;
  /** Authenticated requests per minute for the endpoint; 0 = unlimited. */
  rateLimit: number;
  maxBodyBytes: number;
  respondInFlow: boolean;
  /** Take the client address from X-Forwarded-For (set only behind a proxy that sets it). */
  trustProxy: boolean;
  /** Bytes of bodies read at once, at most. */
  maxPendingBytes: number;
}

/** A number replaced by its default, with the message key that says what the field must be. */
export type NumberProblem = NonNullable<NumberReading["problem"]> & { key: "invalid-number" | "invalid-rate-limit" };

export interface SettingsReading {
  settings: ReceiveSettings;
  /** Numbers that were replaced by their default, for the node to warn about and show. */
  problems: NumberProblem[];
  /** Secrets dropped because they are not valid Standard Webhooks keys (only their count: they are secret). */
  invalidKeys: number;
}

function flag(value: unknown, fallback: boolean): boolean {
  return value === undefined || value === null || value === "" ? fallback : value === true || value === "true";
}

/** Reads the node's properties and its secret credential. */
export function readSettings(config: CallbackInConfig, secret: string | undefined): SettingsReading {
  const problems: NumberProblem[] = [];
  const number = (field: string, value: unknown, fallback: number, rule?: NumberRule): number => {
    const reading = numberOrDefault(field, value, fallback, rule);
    if (reading.problem) problems.push({ ...reading.problem, key: "invalid-number" });
    return reading.value;
  };

  let url = text(config.url).trim() || DEFAULT_URL;
  if (!url.startsWith("/")) url = "/" + url;
  const verify = isVerifyMode(config.verify) ? config.verify : "secret";
  const secretHeader = text(config.secretHeader).trim() || DEFAULT_SECRET_HEADER;
  const toleranceSeconds = number("tolerance", config.tolerance, 300);
  const dedupeTtlSeconds = number("dedupeTtl", config.dedupeTtl, 86400);
  let rateLimit = number("rateLimit", config.rateLimit, 600);
  // Between 0 and 1 no whole token ever comes back: an endpoint that answers 429 forever.
  if (rateLimit > 0 && rateLimit < 1) {
    problems.push({ field: "rateLimit", value: String(config.rateLimit), fallback: 600, key: "invalid-rate-limit" });
    rateLimit = 600;
  }
  const maxBodyKiB = number("maxBody", config.maxBody, 1024, { min: 0, exclusive: true });
  const maxPendingKiB = number("maxPending", config.maxPending, 16384, { min: 0, exclusive: true });
  const maxBodyBytes = Math.max(1, Math.floor(maxBodyKiB * 1024));
  let secrets = splitSecrets(secret);
  const given = secrets.length;
  if (verify === "standard-webhooks") secrets = secrets.filter((key) => standardWebhooksKeyBytes(key) !== undefined);

  return {
    settings: {
      url,
      verify,
      secrets,
      secretHeader,
      toleranceSeconds,
      dedupe: flag(config.dedupe, true),
      dedupeTtlMs: dedupeTtlSeconds * 1000,
      rateLimit,
      maxBodyBytes,
      respondInFlow: config.respond === "flow",
      trustProxy: flag(config.trustProxy, false),
      maxPendingBytes: Math.max(1, Math.floor(maxPendingKiB * 1024)),
    },
    problems,
    invalidKeys: given - secrets.length,
  };
}
