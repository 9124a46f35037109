// Connection errors a user fixes in the callback store's settings, told apart from the rest so the
// config node can say which field to change. Node's TLS errors carry an OpenSSL or Node code.

/** What a user can fix, by the field it is in; undefined for anything else (network, server down). */
export type StoreProblem = "tls-untrusted" | "tls-name" | "tls-expired" | "tls-handshake" | "auth";

/** The server's certificate does not chain to a CA the connection trusts. */
const UNTRUSTED = new Set([
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_UNTRUSTED",
  "CERT_SIGNATURE_FAILURE",
  "CERT_REJECTED",
]);

export function storeProblem(err: Error & { code?: unknown }): StoreProblem | undefined {
  const code = typeof err.code === "string" ? err.code : "";
  if (UNTRUSTED.has(code)) return "tls-untrusted";
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") return "tls-name";
  if (code === "CERT_HAS_EXPIRED" || code === "CERT_NOT_YET_VALID") return "tls-expired";
  // A plain-text server answering a TLS hello, or a TLS server that rejected ours.
  if (code.startsWith("ERR_SSL_")) return "tls-handshake";
  if (/^(WRONGPASS|NOAUTH|NOPERM)\b/.test(err.message)) return "auth";
  return undefined;
}
