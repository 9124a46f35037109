// Values from a node's properties or settings.js as Node-RED hands them over: the editor stores
// numbers as strings, and hand-written or imported flows can hold anything.

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
