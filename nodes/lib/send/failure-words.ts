// Why an attempt failed, in words a non-programmer can act on: what happened and what to do first,
// the technical cause (the system's error code and message) after it, in parentheses.
// Pure: the message texts are passed in, so it runs without Node-RED.
import type { MessageText } from "./request-headers";

/** The common ways a connection fails, each with its own advice; "other" says only to check URL and network. */
export type FailureKind = "refused" | "dns" | "connect-timeout" | "reset" | "tls" | "other";

/** The causes deliverOnce names itself, in the user's language (the node's catalog). */
export interface DeliveryMessages {
  /** No complete reply within `seconds`. */
  timeout(seconds: number): string;
  /** The attempt was stopped because the node is closing. */
  stopped: string;
  /** No reply: the connection to `url` failed; `cause` is the system's own error text. */
  unreachable(kind: FailureKind, url: string, cause: string): string;
}

const KINDS: Record<string, FailureKind> = {
  ECONNREFUSED: "refused",
  ENOTFOUND: "dns",
  EAI_AGAIN: "dns",
  EAI_NONAME: "dns",
  ETIMEDOUT: "connect-timeout",
  UND_ERR_CONNECT_TIMEOUT: "connect-timeout",
  EHOSTUNREACH: "connect-timeout",
  ENETUNREACH: "connect-timeout",
  ECONNRESET: "reset",
  EPIPE: "reset",
  UND_ERR_SOCKET: "reset",
};

/** Certificate problems, as Node.js's TLS names them. */
const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS_/;

/** The error codes of `err` and of its causes, outermost first (fetch-style errors nest the useful one). */
function codes(err: unknown): string[] {
  const found: string[] = [];
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as Error & { code?: unknown }).code;
    if (typeof code === "string") found.push(code);
    current = (current as Error & { cause?: unknown }).cause;
  }
  return found;
}

/** Which of the common failures `err` is. */
export function failureKind(err: unknown): FailureKind {
  const all = codes(err);
  if (all.some((code) => TLS_CODES.test(code))) return "tls";
  for (const code of [...all].reverse()) {
    const kind = KINDS[code];
    if (kind) return kind;
  }
  return "other";
}

/** host:port of a URL (the scheme's port when it names none), for "connection refused at ...". */
export function hostAndPort(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || (parsed.protocol === "https:" ? "443" : "80")}`;
  } catch {
    return url;
  }
}

/** deliverOnce's texts from callback out's catalog. */
export function deliveryMessages(t: MessageText): DeliveryMessages {
  return {
    timeout: (seconds) => t("errors.timeout", { seconds }),
    stopped: t("errors.stopped"),
    unreachable: (kind, url, cause) => t(`errors.unreachable.${kind}`, { where: hostAndPort(url), cause }),
  };
}

/** What a reply that is not 2xx means for the user, with its status code; undefined for 1xx to 3xx. */
export function replyAdvice(statusCode: number, t: MessageText): string | undefined {
  if (statusCode === 401 || statusCode === 403) return t("errors.reply.auth", { code: statusCode });
  if (statusCode === 404 || statusCode === 405) return t("errors.reply.not-found", { code: statusCode });
  if (statusCode >= 400 && statusCode < 500) return t("errors.reply.client", { code: statusCode });
  if (statusCode >= 500) return t("errors.reply.server", { code: statusCode });
  return undefined;
}
