// Authentication of one callback request over its exact raw body bytes: a shared-secret header,
// an "X-Signature: sha256=<hex>" HMAC, or Standard Webhooks. Several secrets are accepted at once
// (rotation); every comparison is constant-time. Everything the headers alone can settle is
// checked by checkHeaders, before a byte of the body is read.
import type { IncomingHttpHeaders } from "node:http";
import { constantTimeEqual, signatureHeaderValue, SIGNATURE_PREFIX, standardWebhooksSignature } from "../shared/sign";

export const VERIFY_MODES = ["secret", "signature", "standard-webhooks", "none"] as const;
export type VerifyMode = (typeof VERIFY_MODES)[number];

export function isVerifyMode(value: unknown): value is VerifyMode {
  return typeof value === "string" && (VERIFY_MODES as readonly string[]).includes(value);
}

export interface VerifyOptions {
  mode: VerifyMode;
  /** Accepted secrets / HMAC keys / whsec_ keys (already split for rotation). */
  secrets: readonly string[];
  /** Header carrying the secret in "secret" mode (any case). */
  secretHeader: string;
  /** Seconds of clock skew accepted for Standard Webhooks timestamps. */
  toleranceSeconds: number;
  /** Current time in ms (tests pass a fixed clock). */
  now?: () => number;
}

/** Why a request was refused; used for logs and counts, never sent to the caller. */
export type VerifyFailure =
  | "no-secret-configured"
  | "missing-secret"
  | "wrong-secret"
  | "missing-signature"
  | "malformed-signature"
  | "wrong-signature"
  | "missing-webhook-headers"
  | "bad-timestamp"
  | "stale-timestamp";

export type VerifyResult = { ok: true } | { ok: false; cause: VerifyFailure };
/** What the headers alone tell: refused, authenticated (`complete`), or to be verified over the body. */
export type HeaderCheck = { ok: true; complete: boolean } | { ok: false; cause: VerifyFailure };

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** True when any candidate equals any accepted value; all pairs are compared (no early exit). */
function anyEqual(candidates: readonly string[], accepted: readonly string[]): boolean {
  let found = false;
  for (const candidate of candidates) {
    for (const value of accepted) {
      if (constantTimeEqual(candidate, value)) found = true;
    }
  }
  return found;
}

const SIGNATURE_FORMAT = /^sha256=[0-9a-fA-F]{64}$/;
/** "v1," and the base64 of a 32-byte HMAC-SHA256. */
const WEBHOOK_SIGNATURE_FORMAT = /^v1,[A-Za-z0-9+/]{43}=$/;
const MAX_WEBHOOK_ID = 256;

function webhookSignatures(headers: IncomingHttpHeaders): string[] {
  // The header holds space-separated "v1,<base64>" entries (several while the sender rotates keys).
  return (header(headers, "webhook-signature") ?? "")
    .split(" ")
    .map((part) => part.trim())
    .filter((part) => WEBHOOK_SIGNATURE_FORMAT.test(part));
}

/** Checks what can be checked before the body is read; in secret mode that is everything. */
export function checkHeaders(options: VerifyOptions, headers: IncomingHttpHeaders): HeaderCheck {
  if (options.mode === "none") return { ok: true, complete: true };
  if (options.secrets.length === 0) return { ok: false, cause: "no-secret-configured" };

  if (options.mode === "secret") {
    const given = header(headers, options.secretHeader);
    if (given === undefined || given === "") return { ok: false, cause: "missing-secret" };
    return anyEqual([given], options.secrets) ? { ok: true, complete: true } : { ok: false, cause: "wrong-secret" };
  }

  if (options.mode === "signature") {
    const given = header(headers, "x-signature");
    if (given === undefined || given === "") return { ok: false, cause: "missing-signature" };
    return SIGNATURE_FORMAT.test(given.trim()) ? { ok: true, complete: false } : { ok: false, cause: "malformed-signature" };
  }

  // Standard Webhooks: https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
  const id = header(headers, "webhook-id");
  const timestamp = header(headers, "webhook-timestamp");
  const signatures = header(headers, "webhook-signature");
  if (!id || !timestamp || !signatures) return { ok: false, cause: "missing-webhook-headers" };
  if (id.length > MAX_WEBHOOK_ID) return { ok: false, cause: "missing-webhook-headers" };
  if (!/^\d{1,15}$/.test(timestamp.trim())) return { ok: false, cause: "bad-timestamp" };
  const nowSeconds = Math.floor((options.now ?? Date.now)() / 1000);
  if (Math.abs(nowSeconds - Number(timestamp.trim())) > options.toleranceSeconds) return { ok: false, cause: "stale-timestamp" };
  if (webhookSignatures(headers).length === 0) return { ok: false, cause: "missing-signature" };
  return { ok: true, complete: false };
}

/** Verifies the signature over the raw body of a request whose headers passed checkHeaders. */
export function verifyBody(options: VerifyOptions, headers: IncomingHttpHeaders, rawBody: Buffer): VerifyResult {
  if (options.mode === "signature") {
    const given = (header(headers, "x-signature") ?? "").trim();
    const expected = options.secrets.map((key) => signatureHeaderValue(key, rawBody));
    // Hex digits are case-insensitive; the prefix is not.
    const normalised = SIGNATURE_PREFIX + given.slice(SIGNATURE_PREFIX.length).toLowerCase();
    return anyEqual([normalised], expected) ? { ok: true } : { ok: false, cause: "wrong-signature" };
  }
  if (options.mode === "standard-webhooks") {
    const id = header(headers, "webhook-id") ?? "";
    const seconds = Number((header(headers, "webhook-timestamp") ?? "").trim());
    const expected = options.secrets.map((key) => standardWebhooksSignature(key, id, seconds, rawBody));
    return anyEqual(webhookSignatures(headers), expected) ? { ok: true } : { ok: false, cause: "wrong-signature" };
  }
  return { ok: true };
}
