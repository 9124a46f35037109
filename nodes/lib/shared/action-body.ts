// The bodies of the deliveries sidebar's action requests, checked: a refusal names the field and
// says what it expects (the plugin answers 400 with it).
import type { Selection } from "./deliveries-api";

export type Checked<T> =
  { ok: true; value: T } | { ok: false; field: string; problem: "execution-ids" | "all-not-allowed" | "request" | "status" };

const MAX_IDS = 1000;

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** `{"execution_ids":[...]}` (1 to 1,000 non-empty strings), or `{"all":true}` when `allowAll`. */
export function checkSelection(body: unknown, allowAll: boolean): Checked<Selection> {
  const value = isObject(body) ? body : {};
  if (value.all === true) {
    return allowAll ? { ok: true, value: { all: true } } : { ok: false, field: "all", problem: "all-not-allowed" };
  }
  const ids = value.execution_ids;
  if (!Array.isArray(ids) || ids.length === 0 || ids.length > MAX_IDS || !ids.every((id) => typeof id === "string" && id !== "")) {
    return { ok: false, field: "execution_ids", problem: "execution-ids" };
  }
  return { ok: true, value: { executionIds: ids as string[] } };
}

/** `{"request": <positive integer>}`. */
export function checkRequestId(body: unknown): Checked<number> {
  const id = isObject(body) ? body.request : undefined;
  return typeof id === "number" && Number.isSafeInteger(id) && id > 0
    ? { ok: true, value: id }
    : { ok: false, field: "request", problem: "request" };
}
