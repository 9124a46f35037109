// The headers of a callback request that do not depend on the msg: the user's configured headers
// (with ${ENV_VAR} filled in), the credentials, the User-Agent and the signature over the body.
// Pure: the environment lookup and the message texts are passed in, so it runs without Node-RED.
import { SIGNATURE_HEADER, signatureHeaderValue, standardWebhooksSignature } from "../shared/sign";
import { text } from "../shared/config-values";
import { HEADER_NAME_PATTERN } from "../shared/property-rules";

export type SignatureMode = "none" | "hmac-sha256" | "standard-webhooks";
export const SIGNATURE_MODES: readonly SignatureMode[] = ["none", "hmac-sha256", "standard-webhooks"];

/** The node's credentials: never in flows.json, only ever sent in headers. */
export interface CallbackCredentials {
  secret?: string;
  token?: string;
  signingKey?: string;
}

/** A localised message for a key of the node's catalog (keys under `errors.`). */
export type MessageText = (key: string, substitutions?: Record<string, string | number>) => string;

const HEADER_NAME = new RegExp(HEADER_NAME_PATTERN);
const ENV_REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
/** What a header value may not hold (Node.js and undici refuse the request): controls but tab, and anything past Latin-1. */
const NOT_HEADER_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

export function isHeaderName(name: string): boolean {
  return HEADER_NAME.test(name);
}

/** Whether a request can carry `value` as a header value (no CR, LF, NUL, other controls, or characters past U+00FF). */
export function isHeaderValue(value: string): boolean {
  return !NOT_HEADER_VALUE.test(value);
}

/** Replaces every `${NAME}` with `env(NAME)`; the caller decides what an unset name gives. */
export function substituteEnv(value: string, env: (name: string) => string): string {
  return value.replace(ENV_REFERENCE, (_match, name: string) => env(name));
}

/**
 * The node's `headers` property (an array of `{ name, value }`) as [name, value] pairs: rows with
 * a blank name are skipped, values get `${ENV}` filled in. Throws, naming the header, on a name
 * that is not a header name or a value a request cannot carry (see isHeaderValue), checked after
 * the substitution: an environment variable can hold a line break too.
 */
export function configuredHeaders(raw: unknown, env: (name: string) => string, message: MessageText): Array<[string, string]> {
  const headers: Array<[string, string]> = [];
  const rows: unknown[] = Array.isArray(raw) ? raw : [];
  for (const row of rows) {
    const item = row && typeof row === "object" ? (row as Record<string, unknown>) : {};
    const name = text(item.name).trim();
    if (name === "") continue;
    if (!isHeaderName(name)) throw new Error(message("errors.bad-header-name", { name }));
    const value = substituteEnv(text(item.value), env);
    if (!isHeaderValue(value)) throw new Error(message("errors.bad-header-value", { name }));
    headers.push([name, value]);
  }
  return headers;
}

/** Throws, naming the field, when a credential holds a character a header cannot carry. */
export function checkCredentials(credentials: CallbackCredentials, message: MessageText): void {
  if (credentials.secret && !isHeaderValue(credentials.secret)) throw new Error(message("errors.bad-credential", { field: "Secret" }));
  if (credentials.token && !isHeaderValue(credentials.token)) throw new Error(message("errors.bad-credential", { field: "Bearer token" }));
}

/**
 * Standard Webhooks sends the execution_id as the webhook-id header: an id a header cannot carry
 * is the msg's error when it arrives, not an attempt that fails for 27 hours. Undefined when fine.
 */
export function executionIdProblem(signature: SignatureMode, executionId: string, message: MessageText): string | undefined {
  if (signature !== "standard-webhooks" || isHeaderValue(executionId)) return undefined;
  return message("errors.bad-execution-id", { id: JSON.stringify(executionId) });
}

/** What the headers of every attempt are made from. */
export interface HeaderSettings {
  userAgent: string;
  headers: ReadonlyArray<readonly [string, string]>;
  secretHeader: string;
  signature: SignatureMode;
}

/** The one request being signed: its exact body bytes and its execution_id. */
export interface SignedRequest {
  executionId: string;
  body: string;
  /** Epoch milliseconds; Standard Webhooks signs a fresh timestamp each attempt, as receivers reject stale ones. */
  now?: number;
}

/** The headers of an attempt to an origin allowed only by `*`: none of the node's, no credentials, no signature. */
export function bareHeaders(settings: Pick<HeaderSettings, "userAgent">): Record<string, string> {
  return { "User-Agent": settings.userAgent, "Content-Type": "application/json" };
}

/** Every header of one attempt. */
export function requestHeaders(settings: HeaderSettings, credentials: CallbackCredentials, request: SignedRequest): Record<string, string> {
  // Keyed by lower-case name so a configured header replaces a default instead of doubling it.
  const headers = new Map<string, [string, string]>();
  const set = (name: string, value: string): void => void headers.set(name.toLowerCase(), [name, value]);
  set("User-Agent", settings.userAgent);
  for (const [name, value] of settings.headers) set(name, value);
  set("Content-Type", "application/json");
  if (credentials.secret) set(settings.secretHeader, credentials.secret);
  if (credentials.token) set("Authorization", `Bearer ${credentials.token}`);
  const key = credentials.signingKey ?? "";
  const { executionId, body } = request;
  if (settings.signature === "hmac-sha256") set(SIGNATURE_HEADER, signatureHeaderValue(key, body));
  if (settings.signature === "standard-webhooks") {
    const timestamp = Math.floor((request.now ?? Date.now()) / 1000);
    set("webhook-id", executionId);
    set("webhook-timestamp", String(timestamp));
    set("webhook-signature", standardWebhooksSignature(key, executionId, timestamp, body));
  }
  return Object.fromEntries([...headers.values()]);
}
