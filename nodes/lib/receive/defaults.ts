// The "callback in" node's properties: default and rule of each, the one place both the runtime
// (settings.ts) and the editor read them (scripts/build.js writes them into callback-in.html).
import { HEADER_NAME_PATTERN, type PropertySpec } from "../shared/property-rules";
import { VERIFY_MODES } from "./verify";
import { CALLBACK_STATUSES } from "../shared/payload";
import { SOURCES } from "./sources/source";

export const NODE_TYPE = "agent-callback-in";

export const RESPOND_MODES = ["immediately", "flow"] as const;

/** Node-RED's HTTP server (under httpNodeRoot) or a server of the node's own (lib/receive/listen.ts). */
export const LISTEN_MODES = ["node-red", "port"] as const;

export const PROPERTIES = {
  name: { value: "", rule: { type: "text" } },
  // Who sends: the agent-loop callback, or a platform's signed events (lib/receive/sources/).
  source: { value: "agent-loop", rule: { type: "oneOf", values: SOURCES } },
  // For a platform: read the result back from its API (credential apiKey) at apiBase (blank: the platform's own).
  fetchResult: { value: false, rule: { type: "boolean" } },
  apiBase: { value: "", rule: { type: "httpUrl" } },
  // The runtime adds a missing leading "/", but the editor asks for it so the path reads as one.
  url: { value: "/agent-results", rule: { type: "pattern", pattern: "^/\\S*$" } },
  verify: { value: "secret", rule: { type: "oneOf", values: VERIFY_MODES } },
  secretHeader: { value: "X-Webhook-Secret", rule: { type: "pattern", pattern: HEADER_NAME_PATTERN } },
  tolerance: { value: 300, rule: { type: "number", min: 0 } },
  dedupe: { value: true, rule: { type: "boolean" } },
  dedupeTtl: { value: 86400, rule: { type: "number", min: 0 } },
  // 0 is unlimited; between 0 and 1 no whole request would ever be allowed again.
  rateLimit: { value: 600, rule: { type: "number", min: 1, orZero: true } },
  maxBody: { value: 1024, rule: { type: "number", min: 0, exclusive: true } },
  maxPending: { value: 16384, rule: { type: "number", min: 0, exclusive: true } },
  trustProxy: { value: false, rule: { type: "boolean" } },
  respond: { value: "immediately", rule: { type: "oneOf", values: RESPOND_MODES } },
  listen: { value: "node-red", rule: { type: "oneOf", values: LISTEN_MODES } },
  port: { value: 8443, rule: { type: "number", min: 1, integer: true, max: 65535 } },
  // An address to bind: an IP literal or a host name, no spaces or slashes.
  host: { value: "0.0.0.0", rule: { type: "pattern", pattern: "^[^\\s/]+$" } },
  tls: { value: "", rule: { type: "config", configType: "tls-config" } },
  // Editor only: the status the node's simulate button emits (the sidebar's API takes any of them).
  simulateStatus: { value: "completed", rule: { type: "oneOf", values: CALLBACK_STATUSES } },
  // The id of a callback store config node; blank: dedupe and rate limit in this process's memory.
  store: { value: "", rule: { type: "config", configType: "agent-callback-store" } },
  // Node-RED's own property: the editor draws this many ports (4 with a platform's other events).
  outputs: { value: 3, rule: { type: "number", min: 3, integer: true, max: 4 } },
} as const satisfies Record<string, PropertySpec>;
