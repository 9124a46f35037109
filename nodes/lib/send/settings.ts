// The "callback out" node's properties, read from the flow JSON (the editor stores numbers as
// strings) and checked once when the node starts: an error names the field and the fix.
// Pure: the environment lookup and the message texts are passed in, so it runs without Node-RED.
import { text } from "../shared/config-values";
import { standardWebhooksKeyBytes } from "../shared/sign";
import { parseSchedule } from "./retry-policy";
import {
  DEFAULT_SECRET_HEADER,
  SIGNATURE_MODES,
  configuredHeaders,
  isHeaderName,
  type MessageText,
  type SignatureMode,
} from "./request-headers";

/** The node's properties as they appear in flows.json. */
export interface CallbackOutConfig {
  url?: unknown;
  headers?: unknown;
  secretHeader?: unknown;
  signature?: unknown;
  agentLoopId?: unknown;
  agentLoopName?: unknown;
  timeout?: unknown;
  retrySchedule?: unknown;
  retry4xx?: unknown;
  concurrency?: unknown;
  maxQueue?: unknown;
}

export interface CallbackOutSettings {
  /** "" when msg.url is to be used. */
  url: string;
  headers: Array<[string, string]>;
  secretHeader: string;
  signature: SignatureMode;
  agentLoopId: string;
  agentLoopName: string;
  timeoutMs: number;
  /** Delays in seconds before attempts 2, 3, ... */
  schedule: number[];
  retry4xx: boolean;
  concurrency: number;
  maxQueue: number;
}

export interface SettingsContext {
  /** Whether the signingKey credential is set (a signature mode needs it). */
  hasSigningKey: boolean;
  /** The key itself, checked for Standard Webhooks (strict whsec_ decoding). */
  signingKey?: string;
  /** The text that replaces `${name}` in a header value (the node's lookup warns about unset names). */
  env: (name: string) => string;
  message: MessageText;
}

export function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}

function number(value: unknown, fallback: number): number {
  return value === undefined || value === null || value === "" ? fallback : Number(value);
}

function isSignatureMode(value: string): value is SignatureMode {
  return (SIGNATURE_MODES as readonly string[]).includes(value);
}

/** Reads and checks the node's properties; throws with a message naming the field and the fix. */
export function readSettings(config: CallbackOutConfig, context: SettingsContext): CallbackOutSettings {
  const { message } = context;
  const url = text(config.url).trim();
  if (url !== "" && !isHttpUrl(url)) throw new Error(message("errors.bad-url", { url }));

  const headers = configuredHeaders(config.headers, context.env, message);

  const secretHeader = text(config.secretHeader, DEFAULT_SECRET_HEADER).trim() || DEFAULT_SECRET_HEADER;
  if (!isHeaderName(secretHeader)) throw new Error(message("errors.bad-header-name", { name: secretHeader }));

  const signature = text(config.signature, "none");
  if (!isSignatureMode(signature)) throw new Error(message("errors.bad-signature", { signature }));
  if (signature !== "none" && !context.hasSigningKey) throw new Error(message("errors.missing-signing-key", { signature }));
  if (signature === "standard-webhooks" && context.signingKey && !standardWebhooksKeyBytes(context.signingKey)) {
    throw new Error(message("errors.bad-whsec"));
  }

  const timeout = number(config.timeout, 15);
  if (!Number.isFinite(timeout) || timeout <= 0) throw new Error(message("errors.bad-number", { field: "timeout", min: "more than 0" }));
  const concurrency = number(config.concurrency, 8);
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new Error(message("errors.bad-number", { field: "concurrency", min: "a whole number of 1 or more" }));
  }
  const maxQueue = number(config.maxQueue, 10000);
  if (!Number.isInteger(maxQueue) || maxQueue < 1) {
    throw new Error(message("errors.bad-number", { field: "maxQueue", min: "a whole number of 1 or more" }));
  }
  const schedule = parseSchedule(config.retrySchedule);
  if (!schedule.ok) throw new Error(schedule.error);

  return {
    url,
    headers,
    secretHeader,
    signature,
    agentLoopId: text(config.agentLoopId),
    agentLoopName: text(config.agentLoopName),
    timeoutMs: Math.round(timeout * 1000),
    schedule: schedule.schedule,
    retry4xx: config.retry4xx === undefined ? true : config.retry4xx === true || config.retry4xx === "true",
    concurrency,
    maxQueue,
  };
}
