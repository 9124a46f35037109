// Signing primitives shared by the sender (callback out) and the verifier (callback in):
// the plain "X-Signature: sha256=<hex>" scheme and Standard Webhooks (https://www.standardwebhooks.com/).
import { createHmac, timingSafeEqual } from "node:crypto";

export const SIGNATURE_HEADER = "X-Signature";
export const SIGNATURE_PREFIX = "sha256=";

/** hex HMAC-SHA256 of the exact body bytes. */
export function hmacSha256Hex(key: string, body: Buffer | string): string {
  return createHmac("sha256", key).update(body).digest("hex");
}

/** The value of the X-Signature header: "sha256=<hex>". */
export function signatureHeaderValue(key: string, body: Buffer | string): string {
  return SIGNATURE_PREFIX + hmacSha256Hex(key, body);
}

/**
 * Compares two strings in time that depends only on their lengths, so that a wrong secret
 * does not leak how many leading characters were right.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, "utf8");
  const right = Buffer.from(b, "utf8");
  if (left.length !== right.length) {
    // Still spend the time of a comparison so that length is the only thing learned.
    timingSafeEqual(left, left);
    return false;
  }
  return timingSafeEqual(left, right);
}

/** Fewest key bytes accepted for Standard Webhooks: the spec's keys are 24 to 64 random bytes. */
export const MIN_STANDARD_WEBHOOKS_KEY_BYTES = 24;

/**
 * Standard Webhooks keys are "whsec_" + base64 of the key bytes (a key given without the prefix
 * is taken as base64 too, as the reference libraries do). Decoded strictly: anything that is not
 * canonical base64 of at least 24 bytes is undefined, so no HMAC is ever made with a truncated key.
 */
export function standardWebhooksKeyBytes(key: string): Buffer | undefined {
  const trimmed = key.trim();
  const base64 = trimmed.startsWith("whsec_") ? trimmed.slice("whsec_".length) : trimmed;
  if (base64.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(base64)) return undefined;
  const bytes = Buffer.from(base64, "base64");
  // Buffer.from ignores bits it cannot use; a round trip proves every character was meant.
  if (bytes.toString("base64") !== base64 || bytes.length < MIN_STANDARD_WEBHOOKS_KEY_BYTES) return undefined;
  return bytes;
}

/** "v1,<base64 HMAC-SHA256 of `${id}.${timestamp}.${body}`>" */
export function standardWebhooksSignature(key: string, webhookId: string, timestampSeconds: number, body: Buffer | string): string {
  const bytes = standardWebhooksKeyBytes(key);
  if (!bytes) throw new Error("invalid Standard Webhooks key: expected whsec_ and the base64 of at least 24 bytes");
  const mac = createHmac("sha256", bytes);
  mac.update(`${webhookId}.${timestampSeconds}.`);
  mac.update(body);
  return `v1,${mac.digest("base64")}`;
}

/** Splits a credential field holding several secrets (newlines or commas) for key rotation. */
export function splitSecrets(value: string | undefined | null): string[] {
  if (!value) return [];
  return value
    .split(/[\n,]/)
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
}
