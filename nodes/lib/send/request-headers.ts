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

export function isHeaderName(name: string): boolean {
  return HEADER_NAME.test(name);
}

/** Replaces every `${NAME}` with `env(NAME)`; the caller decides what an unset name gives. */
export function substituteEnv(value: string, env: (name: string) => string): string {
  return value.replace(ENV_REFERENCE, (_match, name: string) => env(name));
}

/**
 * The node's `headers` property (an array of `{ name, value }`) as [name, value] pairs: rows with
 * a blank name are skipped, values get `${ENV}` filled in. Throws, naming the header, on a name
 * that is not a header name or a value that would split the request (CR, LF, NUL).
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
    if (/[\r\n\0]/.test(value)) throw new Error(message("errors.bad-header-value", { name }));
    headers.push([name, value]);
  }
  return headers;
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
