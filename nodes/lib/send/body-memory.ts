// How many bytes of queued bodies a callback out keeps in memory (settings.js
// agentCallbackOutBodyMemoryMB); past that, bodies are read back from the outbox on disk.
import type { NodeAPI } from "../shared/node-red-types";
import { nonNegativeNumber } from "../shared/config-values";
import type { Translate } from "../shared/messages";

/** MB of queued bodies a node keeps in memory by default. */
export const DEFAULT_BODY_MEMORY_MB = 8;

/** The runtimes already warned about a bad `agentCallbackOutBodyMemoryMB`: one warning each. */
const warnedBodyMemory = new WeakSet<NodeAPI>();

/** settings.js `agentCallbackOutBodyMemoryMB` in bytes; a bad value gives the default, with a warning. */
export function bodyMemoryBytes(RED: NodeAPI, t: Translate): number {
  const value = RED.settings.agentCallbackOutBodyMemoryMB;
  const mb = nonNegativeNumber(value, DEFAULT_BODY_MEMORY_MB);
  if (mb !== undefined) return Math.floor(mb * 1024 * 1024);
  if (!warnedBodyMemory.has(RED)) {
    warnedBodyMemory.add(RED);
    RED.log.warn(t("errors.bad-body-memory", { value: String(value), fallback: DEFAULT_BODY_MEMORY_MB }));
  }
  return DEFAULT_BODY_MEMORY_MB * 1024 * 1024;
}
