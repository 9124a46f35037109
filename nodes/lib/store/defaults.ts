// The "callback store" config node's properties: default and rule of each, the one place both the
// runtime (callback-store.ts) and the editor read them (scripts/build.js writes them into the .html).
import type { PropertySpec } from "../shared/property-rules";

export const NODE_TYPE = "agent-callback-store";

export const PROPERTIES = {
  name: { value: "", rule: { type: "text" } },
  url: { value: "redis://127.0.0.1:6379", rule: { type: "pattern", pattern: "^rediss?://\\S+$" } },
  prefix: { value: "agent-callback:", rule: { type: "text" } },
  // The id of a core tls-config node, for rediss:// URLs.
  tls: { value: "", rule: { type: "config", configType: "tls-config" } },
} as const satisfies Record<string, PropertySpec>;
