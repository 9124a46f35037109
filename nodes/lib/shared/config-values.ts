// Values from a node's properties or settings.js as Node-RED hands them over: the editor stores
// numbers as strings, and hand-written or imported flows can hold anything.
import { acceptsValue } from "./property-rules";

/** A string property; `fallback` when it is missing, anything else as its text. */
export function text(value: unknown, fallback = ""): string {
  return typeof value === "string" ? value : value === undefined || value === null ? fallback : String(value);
}

/** A number >= 0 (from a number or a numeric string); `fallback` when blank; undefined when invalid. */
export function nonNegativeNumber(value: unknown, fallback: number): number | undefined {
  if (value === undefined || value === null || value === "") return fallback;
  const n = typeof value === "number" ? value : Number(value);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/** What a number property must be: at least `min` (default 0), above `min` when `exclusive`, whole when `integer`, at most `max`. */
export interface NumberRule {
  min?: number;
  exclusive?: boolean;
  integer?: boolean;
  /** 0 is accepted too (an "unlimited" that lies below `min`). */
  orZero?: boolean;
  max?: number;
}

/** A number property read by the one policy of both nodes: a bad value is replaced by the default and reported. */
export interface NumberReading {
  value: number;
  /** Set when `value` is the default because the property held something else. */
  problem?: { field: string; value: string; fallback: number };
}

/**
 * The one policy for number properties in both nodes: blank means the default; a value that breaks
 * `rule` also gives the default, with a `problem` for the node to warn about and show in its status,
 * so that an imported flow with a bad number still runs instead of failing the whole node.
 */
export function numberOrDefault(field: string, value: unknown, fallback: number, rule: NumberRule = {}): NumberReading {
  if (value === undefined || value === null || (typeof value === "string" && value.trim() === "")) return { value: fallback };
  // The editor checks the same rule with the same function (property-rules.ts).
  const ok = acceptsValue(
    { type: "number", min: rule.min ?? 0, exclusive: rule.exclusive, integer: rule.integer, orZero: rule.orZero, max: rule.max },
    value,
  );
  return ok ? { value: Number(value) } : { value: fallback, problem: { field, value: String(value), fallback } };
}
