// Authentication of one callback request over its exact raw body bytes: a shared-secret header,
// an "X-Signature: sha256=<hex>" HMAC, or Standard Webhooks. Several secrets are accepted at once
// (rotation); every comparison is constant-time.
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
  | "wrong-signature"
  | "missing-webhook-headers"
  | "bad-timestamp"
  | "stale-timestamp";

export type VerifyResult = { ok: true } | { ok: false; cause: VerifyFailure };

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

export function verifyRequest(options: VerifyOptions, headers: IncomingHttpHeaders, rawBody: Buffer): VerifyResult {
  if (options.mode === "none") return { ok: true };
  if (options.secrets.length === 0) return { ok: false, cause: "no-secret-configured" };

  if (options.mode === "secret") {
    const given = header(headers, options.secretHeader);
    if (given === undefined || given === "") return { ok: false, cause: "missing-secret" };
    return anyEqual([given], options.secrets) ? { ok: true } : { ok: false, cause: "wrong-secret" };
  }

  if (options.mode === "signature") {
    const given = header(headers, "x-signature");
    if (given === undefined || given === "") return { ok: false, cause: "missing-signature" };
    const expected = options.secrets.map((key) => signatureHeaderValue(key, rawBody));
    // Hex digits are case-insensitive; the prefix is not.
    const normalised = given.trim().startsWith(SIGNATURE_PREFIX)
      ? SIGNATURE_PREFIX + given.trim().slice(SIGNATURE_PREFIX.length).toLowerCase()
      : given;
    return anyEqual([normalised], expected) ? { ok: true } : { ok: false, cause: "wrong-signature" };
  }

  // Standard Webhooks: https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
  const id = header(headers, "webhook-id");
  const timestamp = header(headers, "webhook-timestamp");
  const signatures = header(headers, "webhook-signature");
  if (!id || !timestamp || !signatures) return { ok: false, cause: "missing-webhook-headers" };
  if (!/^\d{1,15}$/.test(timestamp.trim())) return { ok: false, cause: "bad-timestamp" };
  const seconds = Number(timestamp.trim());
  const nowSeconds = Math.floor((options.now ?? Date.now)() / 1000);
  if (Math.abs(nowSeconds - seconds) > options.toleranceSeconds) return { ok: false, cause: "stale-timestamp" };
  // The header holds space-separated "v1,<base64>" entries (several while the sender rotates keys).
  const given = signatures
    .split(" ")
    .map((part) => part.trim())
    .filter((part) => part.startsWith("v1,"));
  if (given.length === 0) return { ok: false, cause: "missing-signature" };
  const expected = options.secrets.map((key) => standardWebhooksSignature(key, id, seconds, rawBody));
  return anyEqual(given, expected) ? { ok: true } : { ok: false, cause: "wrong-signature" };
}
