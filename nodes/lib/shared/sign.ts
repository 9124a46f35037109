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

/**
 * Standard Webhooks keys are "whsec_" + base64 of the key bytes. A key given without the prefix
 * is taken as base64 too, as the reference libraries do.
 */
export function standardWebhooksKeyBytes(key: string): Buffer {
  const trimmed = key.trim();
  const base64 = trimmed.startsWith("whsec_") ? trimmed.slice("whsec_".length) : trimmed;
  return Buffer.from(base64, "base64");
}

/** "v1,<base64 HMAC-SHA256 of `${id}.${timestamp}.${body}`>" */
export function standardWebhooksSignature(key: string, webhookId: string, timestampSeconds: number, body: Buffer | string): string {
  const mac = createHmac("sha256", standardWebhooksKeyBytes(key));
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
