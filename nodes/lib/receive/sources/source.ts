// Who sends to a callback in (its Sender property) and what every sender's module gives the
// receiver: the key duplicates are recognised by, the output, the msg's payload and topic. The
// receiver keeps its limits, authentication order, dedupe and reply; only the reading differs.
import type { IncomingHttpHeaders } from "node:http";
import {
  CALLBACK_STATUSES,
  checkCallbackPayload,
  type CallbackMetadata,
  type CallbackPayload,
  type CallbackResult,
  type CallbackStatus,
} from "../../shared/payload";

export const SOURCES = ["agent-loop", "openai", "anthropic"] as const;
export type SourceName = (typeof SOURCES)[number];

export function isSource(value: unknown): value is SourceName {
  return typeof value === "string" && (SOURCES as readonly string[]).includes(value);
}

/** A platform sends events of many types: those the routing table does not name go to this fourth output. */
export const OTHER_OUTPUT = CALLBACK_STATUSES.length;

/** The outputs a node with this sender has: completed, failed, timeout, and for a platform other events. */
export function outputCount(source: SourceName): number {
  return source === "agent-loop" ? CALLBACK_STATUSES.length : CALLBACK_STATUSES.length + 1;
}

/** The agent-loop form of msg.payload; a platform's event of another type has no status (null). */
export interface ReceivedPayload {
  agent_loop_id: string | null;
  agent_loop_name?: string | null | undefined;
  execution_id: string;
  status: CallbackStatus | null;
  result?: CallbackResult | null | undefined;
  metadata?: CallbackMetadata | null | undefined;
  error?: string | null | undefined;
  /** A sender's own fields are kept. */
  [field: string]: unknown;
}

/** A request body read by its sender's module. */
export interface Reading {
  /** What duplicates are recognised by: the execution_id, or a platform's webhook-id header. */
  key: string;
  output: number;
  payload: ReceivedPayload;
  topic: string;
  /** A platform's event exactly as received (msg.event). */
  event?: unknown;
}

export type ReadResult = { ok: true; reading: Reading } | { ok: false; error: string };

/** What the flow gets once the result is read back (or could not be: fetchError says why). */
export interface Completion {
  payload: ReceivedPayload;
  fetchError?: string;
}

export interface Source {
  readonly name: SourceName;
  /** The parsed JSON body of an authenticated request. */
  read(value: unknown, headers: IncomingHttpHeaders): ReadResult;
  /** Reads the result back from the platform's API; undefined when there is nothing to read for this event. */
  complete?(reading: Reading): Promise<Completion> | undefined;
}

/** The agent-loop callback of the package's documentation (the default; unchanged behaviour). */
/** The msg.topic of an agent-loop callback: its agent_loop_name (empty when it has none). */
export function callbackTopic(payload: CallbackPayload): string {
  return payload.agent_loop_name ?? "";
}

export const AGENT_LOOP: Source = {
  name: "agent-loop",
  read(value) {
    const checked = checkCallbackPayload(value);
    if (!checked.ok) return { ok: false, error: checked.error };
    const payload = checked.payload;
    return {
      ok: true,
      reading: {
        key: payload.execution_id,
        output: CALLBACK_STATUSES.indexOf(payload.status),
        payload,
        topic: callbackTopic(payload),
      },
    };
  },
};
