// The "callback out" node's properties, read from the flow JSON (the editor stores numbers as
// strings) and checked once when the node starts: an error names the field and the fix, while a
// bad number falls back to its default with a problem the node shows (the one policy of both nodes).
// Pure: the environment lookup and the message texts are passed in, so it runs without Node-RED.
import { numberOrDefault, text, type NumberReading } from "../shared/config-values";
import { standardWebhooksKeyBytes } from "../shared/sign";
import { acceptsValue } from "../shared/property-rules";
import { PROPERTIES } from "./defaults";
import { parseSchedule } from "./retry-policy";
import {
  SIGNATURE_MODES,
  checkCredentials,
  configuredHeaders,
  isHeaderName,
  type CallbackCredentials,
  type MessageText,
  type SignatureMode,
} from "./request-headers";
import { readReach, type ReachConfig } from "./reach";
import type { OriginPolicy } from "./origins";
import type { NetworkSettings } from "./network";
import type { ReceiverRule } from "./receiver-health";

/** The node's properties as they appear in flows.json (allowedOrigins, proxy and tls: see ReachConfig). */
export interface CallbackOutConfig extends ReachConfig {
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
  pauseAfter?: unknown;
  pauseFor?: unknown;
  maxRate?: unknown;
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
  /** Pause and pace per receiver (receiver-health.ts). */
  receiverRule: ReceiverRule;
  /** Number properties replaced by their default because they held a bad value. */
  problems: NumberProblem[];
  /** Which msg.url origins may be used, and which get the credentials. */
  origins: OriginPolicy;
  /** Proxy and TLS of the connections to receivers. */
  network: NetworkSettings;
  /** Choices that weaken security (TLS verification off), for the log. */
  warnings: string[];
}

export type NumberProblem = NonNullable<NumberReading["problem"]>;

export interface SettingsContext {
  /** Whether the signingKey credential is set (a signature mode needs it). */
  hasSigningKey: boolean;
  /** The key itself, checked for Standard Webhooks (strict whsec_ decoding). */
  signingKey?: string;
  /** The text that replaces `${name}` in a header value (the node's lookup warns about unset names). */
  env: (name: string) => string;
  message: MessageText;
  /** The secret and token, checked to be header values (absent: not checked). */
  credentials?: CallbackCredentials;
  /** RED.nodes.getNode: the proxy and tls config nodes (absent: none is deployed). */
  getNode?: (id: string) => unknown;
  /** The process environment, for HTTP_PROXY / HTTPS_PROXY / NO_PROXY (absent: none set). */
  proxyEnv?: Readonly<Record<string, string | undefined>>;
  /** The node's name and id: agent_loop_id when the node's Agent loop ID is empty (absent: no fallback). */
  node?: { id: string; name?: unknown };
}

/**
 * The node's Agent loop ID, else its name, else its id: the least configuration (a URL and a
 * secret) sends callbacks, each named by something the user can find in the editor.
 */
export function agentLoopIdOf(configured: unknown, node?: { id: string; name?: unknown }): string {
  const id = text(configured);
  if (id.trim() !== "" || !node) return id;
  return text(node.name).trim() || node.id;
}

export function isHttpUrl(value: string): boolean {
  return value.trim() !== "" && acceptsValue(PROPERTIES.url.rule, value);
}

function isSignatureMode(value: string): value is SignatureMode {
  return (SIGNATURE_MODES as readonly string[]).includes(value);
}

/** Reads and checks the node's properties; throws with a message naming the field and the fix (bad numbers: see `problems`). */
export function readSettings(config: CallbackOutConfig, context: SettingsContext): CallbackOutSettings {
  const { message } = context;
  const url = text(config.url).trim();
  if (url !== "" && !isHttpUrl(url)) throw new Error(message("errors.bad-url", { url }));

  const headers = configuredHeaders(config.headers, context.env, message);

  const secretHeader = text(config.secretHeader).trim() || PROPERTIES.secretHeader.value;
  if (!isHeaderName(secretHeader)) throw new Error(message("errors.bad-header-name", { name: secretHeader }));

  const signature = text(config.signature, PROPERTIES.signature.value);
  if (!isSignatureMode(signature)) throw new Error(message("errors.bad-signature", { signature }));
  if (signature !== "none" && !context.hasSigningKey) throw new Error(message("errors.missing-signing-key", { signature }));
  if (signature === "standard-webhooks" && context.signingKey && !standardWebhooksKeyBytes(context.signingKey)) {
    throw new Error(message("errors.bad-whsec"));
  }
  if (context.credentials) checkCredentials(context.credentials, message);
  const reach = readReach(config, context.getNode ?? (() => null), context.proxyEnv ?? {}, message);

  const number = (field: "timeout" | "concurrency" | "maxQueue" | "pauseAfter" | "pauseFor" | "maxRate") =>
    numberOrDefault(field, config[field], PROPERTIES[field].value, PROPERTIES[field].rule);
  const timeout = number("timeout");
  const concurrency = number("concurrency");
  const maxQueue = number("maxQueue");
  const [pauseAfter, pauseFor, maxRate] = [number("pauseAfter"), number("pauseFor"), number("maxRate")];
  const problems = [timeout, concurrency, maxQueue, pauseAfter, pauseFor, maxRate].flatMap((reading) =>
    reading.problem ? [reading.problem] : [],
  );
  const schedule = parseSchedule(config.retrySchedule);
  if (!schedule.ok) throw new Error(message(schedule.key, schedule.substitutions));

  return {
    url,
    headers,
    secretHeader,
    signature,
    agentLoopId: agentLoopIdOf(config.agentLoopId, context.node),
    agentLoopName: text(config.agentLoopName),
    timeoutMs: Math.round(timeout.value * 1000),
    schedule: schedule.schedule,
    retry4xx: config.retry4xx === undefined ? PROPERTIES.retry4xx.value : config.retry4xx === true || config.retry4xx === "true",
    concurrency: concurrency.value,
    maxQueue: maxQueue.value,
    receiverRule: { pauseAfter: pauseAfter.value, pauseForMs: Math.round(pauseFor.value * 1000), maxRate: maxRate.value },
    problems,
    ...reach,
  };
}
