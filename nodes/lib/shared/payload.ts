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
const atMost = { error: `must be at most ${MAX_ID_LENGTH} characters` };

// Ids are used to route and deduplicate, so a blank one is as useless as a missing one.
const nonEmptyString = z
  .string({ error: "required, a non-empty string" })
  .regex(/\S/, { error: "must not be empty or blank" })
  .max(MAX_ID_LENGTH, atMost);
const optionalString = z.string({ error: "expected a string or null" }).nullable().optional();
const count = z
  .number({ error: "expected a whole number >= 0 or null" })
  .int({ error: "expected a whole number >= 0" })
  .min(0, { error: "expected a whole number >= 0" })
  .nullable()
  .optional();
const isoDateTime = z.iso
  .datetime({ offset: true, error: "expected an ISO-8601 date-time such as 2024-01-15T10:00:00Z, or null" })
  .nullable()
  .optional();

const objectOrNull = { error: "expected an object or null" };

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
    duration_seconds: z
      .number({ error: "expected a number >= 0 or null" })
      .min(0, { error: "expected a number >= 0" })
      .nullable()
      .optional(),
    model: optionalString,
    tokens_used: count,
  },
  objectOrNull,
);

export const callbackPayloadSchema = z.looseObject({
  agent_loop_id: nonEmptyString,
  agent_loop_name: z.string({ error: "expected a string or null" }).max(MAX_ID_LENGTH, atMost).nullable().optional(),
  execution_id: nonEmptyString,
  status: z.enum(CALLBACK_STATUSES, { error: `expected one of ${CALLBACK_STATUSES.join(", ")}` }),
  result: callbackResultSchema.nullable().optional(),
  metadata: callbackMetadataSchema.nullable().optional(),
  error: optionalString,
});

export type CallbackResult = z.infer<typeof callbackResultSchema>;
export type CallbackMetadata = z.infer<typeof callbackMetadataSchema>;
export type CallbackPayload = z.infer<typeof callbackPayloadSchema>;

export type PayloadCheck = { ok: true; payload: CallbackPayload } | { ok: false; error: string; field: string };

/**
 * Checks a parsed JSON value against the schema. On failure the message names the field and
 * what it expects, e.g. "status: expected one of completed, failed, timeout", because it is shown
 * to people fixing a sender or a flow.
 */
export function checkCallbackPayload(value: unknown): PayloadCheck {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return { ok: false, field: "(body)", error: "(body): expected a JSON object" };
  }
  const parsed = callbackPayloadSchema.safeParse(value);
  if (parsed.success) return { ok: true, payload: parsed.data };
  const first = parsed.error.issues[0];
  const field = first && first.path.length > 0 ? first.path.map(String).join(".") : "(body)";
  const message = first ? first.message : "invalid payload";
  const more = parsed.error.issues.length > 1 ? ` (and ${parsed.error.issues.length - 1} more)` : "";
  return { ok: false, field, error: `${field}: ${message}${more}` };
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
