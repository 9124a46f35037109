// The "callback in" node's properties, read from the flow JSON (the editor stores numbers as
// strings) and checked once when the node starts. Bad numbers follow the one policy of both nodes
// (numberOrDefault): the default is used and the problem is handed back for the log and the status.
import { numberOrDefault, text, type NumberReading, type NumberRule } from "../shared/config-values";
import { splitSecrets, standardWebhooksKeyBytes } from "../shared/sign";
import { PROPERTIES } from "./defaults";
import { isVerifyMode, type VerifyMode } from "./verify";
import { isSource, type SourceName } from "./sources/source";
import { OPENAI_API_BASE } from "./sources/openai";
import { ANTHROPIC_API_BASE } from "./sources/anthropic";

/** The node's properties as they appear in flows.json. */
export interface CallbackInConfig {
  source?: unknown;
  fetchResult?: unknown;
  apiBase?: unknown;
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

export const DEFAULT_URL = PROPERTIES.url.value;
export const DEFAULT_SECRET_HEADER = PROPERTIES.secretHeader.value;

export interface ReceiveSettings {
  /** Who sends; a platform implies Standard Webhooks and answers at once. */
  source: SourceName;
  /** A platform's result is read back from its API. */
  fetchResult: boolean;
  /** The platform's API, without a trailing slash. */
  apiBase: string;
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
/** The message (under "warn.") that says what the field must be. */
export type NumberProblemKey = "invalid-number" | "invalid-rate-limit";

export type NumberProblem = NonNullable<NumberReading["problem"]> & { key: NumberProblemKey };

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

/** The API's base URL without a trailing slash; blank or not an http(s) URL: the platform's own. */
function apiBaseOf(value: unknown, platformBase: string): string {
  const given = text(value).trim();
  return /^https?:\/\/\S+$/i.test(given) ? given.replace(/\/+$/, "") : platformBase;
}

/** Reads the node's properties and its secret credential. */
export function readSettings(config: CallbackInConfig, secret: string | undefined): SettingsReading {
  const problems: NumberProblem[] = [];
  const number = (field: string, value: unknown, fallback: number, rule?: NumberRule): number => {
    const reading = numberOrDefault(field, value, fallback, rule);
    // A rate between 0 and 1 gets its own message: it is a number >= 0, yet refused.
    const belowOne = field === "rateLimit" && Number(value) > 0 && Number(value) < 1;
    if (reading.problem) problems.push({ ...reading.problem, key: belowOne ? "invalid-rate-limit" : "invalid-number" });
    return reading.value;
  };

  const source = isSource(config.source) ? config.source : PROPERTIES.source.value;
  const platform = source !== "agent-loop";
  const platformBase = source === "anthropic" ? ANTHROPIC_API_BASE : OPENAI_API_BASE;
  let url = text(config.url).trim() || DEFAULT_URL;
  if (!url.startsWith("/")) url = "/" + url;
  // A platform signs with Standard Webhooks: the verify property does not apply.
  const verify = platform ? "standard-webhooks" : isVerifyMode(config.verify) ? config.verify : PROPERTIES.verify.value;
  const secretHeader = text(config.secretHeader).trim() || DEFAULT_SECRET_HEADER;
  const toleranceSeconds = number("tolerance", config.tolerance, PROPERTIES.tolerance.value, PROPERTIES.tolerance.rule);
  const dedupeTtlSeconds = number("dedupeTtl", config.dedupeTtl, PROPERTIES.dedupeTtl.value, PROPERTIES.dedupeTtl.rule);
  const rateLimit = number("rateLimit", config.rateLimit, PROPERTIES.rateLimit.value, PROPERTIES.rateLimit.rule);
  const maxBodyKiB = number("maxBody", config.maxBody, PROPERTIES.maxBody.value, PROPERTIES.maxBody.rule);
  const maxPendingKiB = number("maxPending", config.maxPending, PROPERTIES.maxPending.value, PROPERTIES.maxPending.rule);
  const maxBodyBytes = Math.max(1, Math.floor(maxBodyKiB * 1024));
  let secrets = splitSecrets(secret);
  const given = secrets.length;
  if (verify === "standard-webhooks") secrets = secrets.filter((key) => standardWebhooksKeyBytes(key) !== undefined);

  return {
    settings: {
      source,
      fetchResult: platform && flag(config.fetchResult, PROPERTIES.fetchResult.value),
      apiBase: apiBaseOf(config.apiBase, platformBase),
      url,
      verify,
      secrets,
      secretHeader,
      toleranceSeconds,
      dedupe: flag(config.dedupe, PROPERTIES.dedupe.value),
      dedupeTtlMs: dedupeTtlSeconds * 1000,
      rateLimit,
      maxBodyBytes,
      // A platform only needs its 2xx, at once; the flow has nothing to answer it.
      respondInFlow: !platform && config.respond === "flow",
      trustProxy: flag(config.trustProxy, PROPERTIES.trustProxy.value),
      maxPendingBytes: Math.max(1, Math.floor(maxPendingKiB * 1024)),
    },
    problems,
    invalidKeys: given - secrets.length,
  };
}
