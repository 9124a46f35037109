// The "callback out" node's properties: default and rule of each, the one place both the runtime
// (settings.ts) and the editor read them (scripts/build.js writes them into callback-out.html).
import { HEADER_NAME_PATTERN, type PropertySpec } from "../shared/property-rules";
import { SIGNATURE_MODES } from "./request-headers";
import { DEFAULT_RETRY_SCHEDULE } from "./retry-policy";

export const NODE_TYPE = "agent-callback-out";

export const PROPERTIES = {
  name: { value: "", rule: { type: "text" } },
  url: { value: "", rule: { type: "httpUrl" } },
  allowedOrigins: { value: [], rule: { type: "origins" } },
  proxy: { value: "", rule: { type: "config", configType: "http proxy", nodeRedChecks: true } },
  tls: { value: "", rule: { type: "config", configType: "tls-config", nodeRedChecks: true } },
  headers: { value: [], rule: { type: "headers", namePattern: HEADER_NAME_PATTERN } },
  secretHeader: { value: "X-Webhook-Secret", rule: { type: "pattern", pattern: HEADER_NAME_PATTERN } },
  signature: { value: "none", rule: { type: "oneOf", values: SIGNATURE_MODES } },
  agentLoopId: { value: "", rule: { type: "text" } },
  agentLoopName: { value: "", rule: { type: "text" } },
  timeout: { value: 15, rule: { type: "number", min: 0, exclusive: true } },
  retrySchedule: { value: DEFAULT_RETRY_SCHEDULE, rule: { type: "delays" } },
  retry4xx: { value: true, rule: { type: "boolean" } },
  concurrency: { value: 8, rule: { type: "number", min: 1, integer: true } },
  // Failed attempts in a row before the receiver pauses (0: never), seconds between its test attempts, attempts a second (0: any).
  pauseAfter: { value: 10, rule: { type: "number", min: 0, integer: true } },
  pauseFor: { value: 30, rule: { type: "number", min: 0, exclusive: true } },
  maxRate: { value: 0, rule: { type: "number", min: 0 } },
  maxQueue: { value: 10000, rule: { type: "number", min: 1, integer: true } },
  // The id of a callback store config node; blank: the outbox is this instance's journal file.
  store: { value: "", rule: { type: "config", configType: "agent-callback-store" } },
  leaseSeconds: { value: 60, rule: { type: "number", min: 1 } },
} as const satisfies Record<string, PropertySpec>;
