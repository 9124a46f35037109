// What OpenAI's and Anthropic's events have in common: a thin event, {id, type, created_at,
// data: {id, ...}}, signed with Standard Webhooks, routed by its type through a table, and
// recognised as a duplicate by the webhook-id header (the platform's idempotency key).
import type { IncomingHttpHeaders } from "node:http";
import { CALLBACK_STATUSES, type CallbackStatus } from "../../shared/payload";
import { OTHER_OUTPUT, type ReadResult, type ReceivedPayload } from "./source";

/** Event types per output; any other type goes to the fourth output, "other events". */
export type RoutingTable = Record<CallbackStatus, readonly string[]>;

export type Fields = Record<string, unknown>;

export function isFields(value: unknown): value is Fields {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function textOf(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** The status of an event type by the table, null for the types it does not name. */
export function statusOf(table: RoutingTable, type: string): CallbackStatus | null {
  for (const status of CALLBACK_STATUSES) if (table[status].includes(type)) return status;
  return null;
}

/** An event time (Unix seconds or an RFC 3339 string) as ISO-8601, or null. */
export function isoTime(value: unknown): string | null {
  if (typeof value === "number" && Number.isFinite(value)) return new Date(value * 1000).toISOString();
  if (typeof value === "string" && !Number.isNaN(Date.parse(value))) return new Date(value).toISOString();
  return null;
}

function header(headers: IncomingHttpHeaders, name: string): string {
  const value = headers[name];
  return (Array.isArray(value) ? value[0] : value) ?? "";
}

/**
 * Reads a verified event. Every JSON object is taken, whatever its type, so that the platform is
 * answered 2xx and never retries an event the flow did not route; `typeOf` finds the event type.
 */
export function readPlatformEvent(
  value: unknown,
  headers: IncomingHttpHeaders,
  table: RoutingTable,
  typeOf: (event: Fields) => string,
): ReadResult {
  if (!isFields(value)) return { ok: false, error: "(body): expected a JSON object" };
  const type = typeOf(value);
  const data = isFields(value.data) ? value.data : {};
  const status = statusOf(table, type);
  const payload: ReceivedPayload = {
    agent_loop_id: null,
    agent_loop_name: null,
    execution_id: textOf(data.id) ?? textOf(value.id) ?? header(headers, "webhook-id"),
    status,
    result: null,
    // The event's own time is when the platform saw the run end.
    metadata: status === null ? null : { completed_at: isoTime(value.created_at) },
    error: null,
  };
  const output = status === null ? OTHER_OUTPUT : CALLBACK_STATUSES.indexOf(status);
  // checkHeaders refused requests without a webhook-id, so every verified event has one.
  return { ok: true, reading: { key: header(headers, "webhook-id"), output, payload, topic: type, event: value } };
}
