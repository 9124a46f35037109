// msg -> callback payload: what callback out sends for each shape of input, so that every
// receiver sees the seed's payload with all of its top-level fields present.
import { checkCallbackPayload, type CallbackPayload, type PayloadRefusal } from "../shared/payload";
import { randomHex } from "../shared/random-hex";

/** The seed's top-level fields: a msg.payload object holding any of them is taken as a payload. */
export const PAYLOAD_FIELDS = ["agent_loop_id", "agent_loop_name", "execution_id", "status", "result", "metadata", "error"] as const;

const METADATA_FIELDS = ["started_at", "completed_at", "duration_seconds", "model", "tokens_used"] as const;

export interface FormatDefaults {
  /** The node's agentLoopId / agentLoopName, used when the msg does not give them. */
  agentLoopId: string;
  agentLoopName: string;
}

/** The parts of a Node-RED msg that shape the payload. */
export interface FormatInput {
  payload?: unknown;
  /** As a Catch node sets it: { message, source }; a plain string is accepted too. */
  error?: unknown;
  /** Optional start time of the agent run when msg.payload is not payload-shaped. */
  started_at?: unknown;
}

export type FormatResult = { ok: true; payload: CallbackPayload; body: string } | PayloadRefusal;

/** "exec_" + 20 hex characters: random enough that two runs never share an id. */
export function newExecutionId(): string {
  return `exec_${randomHex(10)}`;
}

type Json = Record<string, unknown>;

function isPlainObject(value: unknown): value is Json {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  if (Buffer.isBuffer(value)) return false;
  // Objects made in a Function node come from another realm (its vm sandbox), whose
  // Object.prototype is not ours: accept any object whose prototype is *some* realm's root.
  if (Object.prototype.toString.call(value) !== "[object Object]") return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === null || Object.getPrototypeOf(proto) === null;
}

function isPayloadShaped(value: unknown): value is Json {
  return isPlainObject(value) && PAYLOAD_FIELDS.some((field) => Object.prototype.hasOwnProperty.call(value, field));
}

/** The agent's output as a string: strings as they are, anything else as JSON. */
function outputText(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === "string") return value;
  if (Buffer.isBuffer(value)) return value.toString("utf8");
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text;
}

function errorMessage(error: unknown): string {
  if (typeof error === "string") return error;
  if (error instanceof Error) return error.message;
  if (isPlainObject(error) && typeof error.message === "string") return error.message;
  const text = JSON.stringify(error);
  return text === undefined ? String(error) : text;
}

function toDate(value: unknown): Date | undefined {
  // Not `instanceof Date`: a Date made in a Function node's sandbox comes from another realm.
  if (Object.prototype.toString.call(value) === "[object Date]") {
    const date = new Date((value as Date).getTime());
    return Number.isNaN(date.getTime()) ? undefined : date;
  }
  if (typeof value === "number" && Number.isFinite(value)) return new Date(value);
  if (typeof value === "string" && value.length > 0) {
    const date = new Date(value);
    return Number.isNaN(date.getTime()) ? undefined : date;
  }
  return undefined;
}

function has(object: Json, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(object, key) && object[key] !== undefined;
}

/**
 * Builds the payload for one msg and checks it with the shared schema. The body string is what
 * is sent and signed, byte for byte, on every attempt.
 */
/** status, result and error: from a Catch node's msg.error, a payload shaped like a callback, or any other payload as the output. */
function outcomeFields(msg: FormatInput, given: Json): { status: unknown; result: unknown; error: unknown } {
  if (msg.error !== undefined && msg.error !== null) {
    // A Catch node's msg: the run failed whatever the payload said.
    return { status: "failed", result: null, error: errorMessage(msg.error) };
  }
  if (isPayloadShaped(msg.payload)) {
    return {
      status: has(given, "status") ? given.status : "completed",
      result: has(given, "result") ? given.result : null,
      error: has(given, "error") ? given.error : null,
    };
  }
  return { status: "completed", result: { output: outputText(msg.payload), iterations_used: null, tool_calls: null }, error: null };
}

/** metadata in the seed's field order: the flow's values, else msg.started_at and now, with the duration between them. */
function metadataOf(msg: FormatInput, givenMetadata: unknown, now: Date): Json {
  const metadata: Json = {};
  const source: Json = isPlainObject(givenMetadata) ? givenMetadata : {};
  const startedRaw = has(source, "started_at") ? source.started_at : msg.started_at;
  const started = toDate(startedRaw);
  const completedRaw = has(source, "completed_at") ? source.completed_at : now.toISOString();
  const completed = toDate(completedRaw);
  metadata.started_at =
    startedRaw === undefined ? null : typeof startedRaw === "string" || started === undefined ? startedRaw : started.toISOString();
  metadata.completed_at = completedRaw;
  if (has(source, "duration_seconds")) metadata.duration_seconds = source.duration_seconds;
  else if (started && completed && completed.getTime() >= started.getTime()) {
    metadata.duration_seconds = Math.round(completed.getTime() - started.getTime()) / 1000;
  } else metadata.duration_seconds = null;
  metadata.model = has(source, "model") ? source.model : null;
  metadata.tokens_used = has(source, "tokens_used") ? source.tokens_used : null;
  for (const [key, value] of Object.entries(source)) {
    if (!(METADATA_FIELDS as readonly string[]).includes(key)) metadata[key] = value;
  }
  return metadata;
}

export function formatCallback(
  msg: FormatInput,
  defaults: FormatDefaults,
  now: Date = new Date(),
  makeId: () => string = newExecutionId,
): FormatResult {
  const given: Json = isPayloadShaped(msg.payload) ? msg.payload : {};
  const { status, result, error } = outcomeFields(msg, given);
  const givenMetadata = given.metadata;

  const pick = (key: string, fallback: unknown): unknown => (has(given, key) ? given[key] : fallback);
  // Built in the seed's field order; unknown fields the flow added are kept after them.
  const payload: Json = {
    agent_loop_id: pick("agent_loop_id", defaults.agentLoopId),
    agent_loop_name: pick("agent_loop_name", defaults.agentLoopName === "" ? null : defaults.agentLoopName),
    execution_id: pick("execution_id", makeId()),
    status,
    result,
    // A metadata value that is not an object is passed on so that the schema names it.
    metadata:
      isPlainObject(givenMetadata) || givenMetadata === undefined || givenMetadata === null
        ? metadataOf(msg, givenMetadata, now)
        : givenMetadata,
    error,
  };
  for (const [key, value] of Object.entries(given)) {
    if (!(PAYLOAD_FIELDS as readonly string[]).includes(key)) payload[key] = value;
  }

  const checked = checkCallbackPayload(payload);
  if (!checked.ok) return checked;
  return { ok: true, payload: payload as CallbackPayload, body: JSON.stringify(payload) };
}
