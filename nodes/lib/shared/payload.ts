// The agent-loop callback payload: one zod schema that both nodes share, so that what
// callback out sends is exactly what callback in accepts.
//
// Unknown fields are kept (loose objects) because senders may add fields over time and the
// receiving flow should still see them.
import { z } from "zod";

export const CALLBACK_STATUSES = ["completed", "failed", "timeout"] as const;
export type CallbackStatus = (typeof CALLBACK_STATUSES)[number];

/** Longest id or name accepted, so that the ids a receiver remembers are bounded in bytes too. */
export const MAX_ID_LENGTH = 256;

/**
 * What a field failed, in the English the replies to senders carry (part of the contract); the
 * keys name the same problem in callback out's catalog (`problems.<key>`), for the flow's author.
 */
export const PAYLOAD_PROBLEMS = {
  required: "required, a non-empty string",
  blank: "must not be empty or blank",
  "too-long": `must be at most ${MAX_ID_LENGTH} characters`,
  text: "expected a string or null",
  "whole-number-or-null": "expected a whole number >= 0 or null",
  "whole-number": "expected a whole number >= 0",
  "date-time": "expected an ISO-8601 date-time such as 2024-01-15T10:00:00Z, or null",
  object: "expected an object or null",
  "number-or-null": "expected a number >= 0 or null",
  number: "expected a number >= 0",
  status: `expected one of ${CALLBACK_STATUSES.join(", ")}`,
  "json-object": "expected a JSON object",
} as const;
export type PayloadProblem = keyof typeof PAYLOAD_PROBLEMS;
const P = PAYLOAD_PROBLEMS;
const atMost = { error: P["too-long"] };

/** Something other than white space. */
const NOT_BLANK = /\S/;

// Ids are used to route and deduplicate, so a blank one is as useless as a missing one.
const nonEmptyString = z.string({ error: P.required }).regex(NOT_BLANK, { error: P.blank }).max(MAX_ID_LENGTH, atMost);
const optionalString = z.string({ error: P.text }).nullable().optional();
const count = z
  .number({ error: P["whole-number-or-null"] })
  .int({ error: P["whole-number"] })
  .min(0, { error: P["whole-number"] })
  .nullable()
  .optional();
const isoDateTimeString = z.iso.datetime({
  offset: true,
  error: P["date-time"],
});
const isoDateTime = isoDateTimeString.nullable().optional();

const objectOrNull = { error: P.object };

export const callbackResultSchema = z.looseObject(
  {
    output: optionalString,
    iterations_used: count,
    tool_calls: count,
  },
  objectOrNull,
);

export const callbackMetadataSchema = z.looseObject(
  {
    started_at: isoDateTime,
    completed_at: isoDateTime,
    duration_seconds: z.number({ error: P["number-or-null"] }).min(0, { error: P.number }).nullable().optional(),
    model: optionalString,
    tokens_used: count,
  },
  objectOrNull,
);

export const callbackPayloadSchema = z.looseObject({
  agent_loop_id: nonEmptyString,
  agent_loop_name: z.string({ error: P.text }).max(MAX_ID_LENGTH, atMost).nullable().optional(),
  execution_id: nonEmptyString,
  status: z.enum(CALLBACK_STATUSES, { error: P.status }),
  result: callbackResultSchema.nullable().optional(),
  metadata: callbackMetadataSchema.nullable().optional(),
  error: optionalString,
});

export type CallbackResult = z.infer<typeof callbackResultSchema>;
export type CallbackMetadata = z.infer<typeof callbackMetadataSchema>;
export type CallbackPayload = z.infer<typeof callbackPayloadSchema>;

/** A refusal: `error` in English (as replies carry it), `problem` and `more` (other fields wrong) to word it for people. */
export type PayloadRefusal = { ok: false; error: string; field: string; problem?: PayloadProblem; more: number };
export type PayloadCheck = { ok: true; payload: CallbackPayload } | PayloadRefusal;

// --- The receiving hot path: a well-formed callback checked in one pass ---------------------------
// zod costs a few microseconds a callback, a good part of callback in's own work. Callbacks that
// are plainly valid are checked here in one pass instead; anything else (a wrong type, a key named
// __proto__, a bad date) is left to the schema, which decides and names the field. This check
// accepts only what the schema accepts (test/lib/shared/payload.spec.ts compares the two on
// thousands of variants) and returns what zod would, known keys first in schema order; the object
// itself when it is already in that order (it is never written to).

/** The date-time pattern of the schema itself, so that the two cannot differ. */
const DATE_TIME: RegExp | undefined = isoDateTimeString._zod.def.pattern;
const PAYLOAD_KEYS = Object.keys(callbackPayloadSchema.shape);
const RESULT_KEYS = Object.keys(callbackResultSchema.shape);
const METADATA_KEYS = Object.keys(callbackMetadataSchema.shape);
const STATUSES: readonly unknown[] = CALLBACK_STATUSES;

type Fields = Record<string, unknown>;
const absent = (v: unknown): boolean => v === undefined || v === null;
const isId = (v: unknown): boolean => typeof v === "string" && v.length <= MAX_ID_LENGTH && NOT_BLANK.test(v);
const isText = (v: unknown): boolean => absent(v) || typeof v === "string";
const isCount = (v: unknown): boolean => absent(v) || (Number.isSafeInteger(v) && (v as number) >= 0);
const isDateTime = (v: unknown): boolean => absent(v) || (DATE_TIME !== undefined && typeof v === "string" && DATE_TIME.test(v));
const isFields = (v: unknown): v is Fields =>
  typeof v === "object" && v !== null && !Array.isArray(v) && !Object.prototype.hasOwnProperty.call(v, "__proto__");

function isPlainResult(v: unknown): boolean {
  return absent(v) || (isFields(v) && isText(v.output) && isCount(v.iterations_used) && isCount(v.tool_calls));
}

function isPlainMetadata(v: unknown): boolean {
  if (absent(v)) return true;
  if (!isFields(v)) return false;
  const duration = v.duration_seconds;
  const durationOk = absent(duration) || (typeof duration === "number" && Number.isFinite(duration) && duration >= 0);
  return durationOk && isDateTime(v.started_at) && isDateTime(v.completed_at) && isText(v.model) && isCount(v.tokens_used);
}

/** Whether the keys of `fields` are the schema's (those present, in its order) and then the others. */
function isInSchemaOrder(fields: Fields, keys: readonly string[]): boolean {
  let last = -1;
  let othersBegun = false;
  for (const key of Object.keys(fields)) {
    const at = keys.indexOf(key);
    if (at < 0) othersBegun = true;
    else if (othersBegun || at < last) return false;
    else last = at;
  }
  return true;
}

/**
 * `fields` in the key order zod gives its copy: the schema's keys that are present, in its order,
 * then the others in theirs. Senders that follow the seed already send that order: kept as is.
 */
function inSchemaOrder(fields: Fields, keys: readonly string[]): Fields {
  if (isInSchemaOrder(fields, keys)) return fields;
  const copy: Fields = {};
  for (const key of keys) if (key in fields) copy[key] = fields[key];
  for (const key of Object.keys(fields)) if (!keys.includes(key)) copy[key] = fields[key];
  return copy;
}

/** `payload` with `key` set to `value`; copied first when it is still the caller's object, which is never written to. */
function withField(payload: Fields, caller: Fields, key: string, value: unknown): Fields {
  if (payload[key] === value) return payload;
  const target = payload === caller ? Object.assign({}, payload) : payload;
  target[key] = value;
  return target;
}

/** The payload as the schema would return it when `value` is plainly valid; undefined when only the schema can tell. */
export function wellFormedCallback(value: unknown): CallbackPayload | undefined {
  if (!isFields(value) || !isId(value.agent_loop_id) || !isId(value.execution_id) || !STATUSES.includes(value.status)) return undefined;
  const name = value.agent_loop_name;
  if (!(absent(name) || (typeof name === "string" && name.length <= MAX_ID_LENGTH))) return undefined;
  if (!isText(value.error) || !isPlainResult(value.result) || !isPlainMetadata(value.metadata)) return undefined;
  let payload = inSchemaOrder(value, PAYLOAD_KEYS);
  if (isFields(value.result)) payload = withField(payload, value, "result", inSchemaOrder(value.result, RESULT_KEYS));
  if (isFields(value.metadata)) payload = withField(payload, value, "metadata", inSchemaOrder(value.metadata, METADATA_KEYS));
  return payload as CallbackPayload;
}

/**
 * Checks a parsed JSON value against the schema. On failure the message names the field and
 * what it expects, e.g. "status: expected one of completed, failed, timeout", because it is shown
 * to people fixing a sender or a flow.
 */
export function checkCallbackPayload(value: unknown): PayloadCheck {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return { ok: false, field: "(body)", error: `(body): ${P["json-object"]}`, problem: "json-object", more: 0 };
  }
  const wellFormed = wellFormedCallback(value);
  if (wellFormed) return { ok: true, payload: wellFormed };
  const parsed = callbackPayloadSchema.safeParse(value);
  if (parsed.success) return { ok: true, payload: parsed.data };
  const first = parsed.error.issues[0];
  const field = first && first.path.length > 0 ? first.path.map(String).join(".") : "(body)";
  const message = first ? first.message : "invalid payload";
  const others = parsed.error.issues.length - 1;
  const more = others > 0 ? ` (and ${others} more)` : "";
  const problem = (Object.keys(P) as PayloadProblem[]).find((key) => P[key] === message);
  return { ok: false, field, error: `${field}: ${message}${more}`, ...(problem ? { problem } : {}), more: Math.max(0, others) };
}

/** The seed document's sample: used by callback out's "send test" button and by tests. */
export function samplePayload(): CallbackPayload {
  return {
    agent_loop_id: "loop_abc123",
    agent_loop_name: "Daily Sales Report",
    execution_id: "exec_xyz789",
    status: "completed",
    result: {
      output: "Sales Report for January 15, 2024 \n\n Total Revenue: $12,450...",
      iterations_used: 5,
      tool_calls: 3,
    },
    metadata: {
      started_at: "2024-01-15T10:00:00Z",
      completed_at: "2024-01-15T10:02:30Z",
      duration_seconds: 150,
      model: "gpt-4",
      tokens_used: 1250,
    },
    error: null,
  };
}
