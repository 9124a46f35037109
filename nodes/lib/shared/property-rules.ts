// What a node property may hold, as data: the runtime checks values with these rules, and the build
// writes the same rules and `acceptsValue` itself into each node's editor (.html), so the edit
// dialog flags exactly what the runtime would not take.

/** RFC 9110 token: what a header name may be. */
export const HEADER_NAME_PATTERN = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$";

export type PropertyRule =
  /** Anything, read as text. */
  | { type: "text" }
  /** Blank (the default) or text matching `pattern` once trimmed. */
  | { type: "pattern"; pattern: string }
  /** Blank (the default) or one of `values`. */
  | { type: "oneOf"; values: readonly string[] }
  /** Blank (the default) or a number (or numeric text) of at least `min`, above it when `exclusive`, whole when `integer`, at most `max`, or 0 when `orZero`. */
  | { type: "number"; min: number; exclusive?: boolean; integer?: boolean; max?: number; orZero?: boolean }
  /**
   * Blank (none) or the id of a config node of `configType` (the editor offers those nodes to pick
   * from); `nodeRedChecks`: Node-RED's own check only (the id names a valid node of that type).
   */
  | { type: "config"; configType: string; nodeRedChecks?: true }
  /** Blank (the default), true / false or their text. */
  | { type: "boolean" }
  /** Blank or an http:// or https:// URL. */
  | { type: "httpUrl" }
  /** Missing (the default), a list of delays in seconds >= 0, or that list as comma-separated text. */
  | { type: "delays" }
  /** A list of { name, value } rows: a blank name skips the row, else a header name; values a header can carry. */
  | { type: "headers"; namePattern: string }
  /** Missing, or a list (or lines of text) of `*` and origins scheme://host[:port] (http or https, no path). */
  | { type: "origins" };

/** A property's default and rule: what both the runtime and the editor use. */
export interface PropertySpec {
  value: unknown;
  rule: PropertyRule;
}

/**
 * Whether `value` is acceptable under `rule`. Self-contained (no imports, no module names): the
 * build embeds its source in the editor, where it runs as is.
 */
// eslint-disable-next-line max-lines-per-function -- the build embeds this one function's source in the editor, so its cases cannot move to helpers beside it
export function acceptsValue(rule: PropertyRule, value: unknown): boolean {
  const blank = value === undefined || value === null || (typeof value === "string" && value.trim() === "");
  const asNumber = (v: unknown): number => (typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : NaN);
  switch (rule.type) {
    case "text":
      // The runtime reads anything as its text.
      return true;
    case "pattern":
      // The runtime reads the property as text, so a number such as 5 is the text "5".
      return blank || ((typeof value === "string" || typeof value === "number") && new RegExp(rule.pattern).test(String(value).trim()));
    case "oneOf":
      return blank || (typeof value === "string" && rule.values.includes(value));
    case "number": {
      if (blank) return true;
      const n = typeof value === "number" || typeof value === "string" ? asNumber(value) : NaN;
      if (rule.orZero && n === 0) return true;
      return (
        Number.isFinite(n) &&
        (rule.exclusive ? n > rule.min : n >= rule.min) &&
        (!rule.integer || Number.isInteger(n)) &&
        (rule.max === undefined || n <= rule.max)
      );
    }
    case "config":
      // With nodeRedChecks, Node-RED's own check applies (the id names a valid config node of the type); the runtime reports an unknown id.
      return rule.nodeRedChecks === true || blank || typeof value === "string";
    case "boolean":
      return blank || value === true || value === false || value === "true" || value === "false";
    case "httpUrl": {
      if (blank) return true;
      if (typeof value !== "string") return false;
      try {
        const protocol = new URL(value.trim()).protocol;
        return protocol === "http:" || protocol === "https:";
      } catch {
        return false;
      }
    }
    case "delays": {
      if (value === undefined || value === null) return true;
      const parts = Array.isArray(value)
        ? value
        : typeof value === "string"
          ? value.trim() === ""
            ? []
            : value.split(",").map((part) => part.trim())
          : null;
      const delay = (part: unknown): number =>
        typeof part === "number" ? part : typeof part === "string" && part !== "" ? Number(part) : NaN;
      return parts !== null && parts.every((part) => Number.isFinite(delay(part)) && delay(part) >= 0);
    }
    case "headers": {
      if (value === undefined || value === null) return true;
      if (!Array.isArray(value)) return false;
      return value.every((row) => {
        if (!row || typeof row !== "object") return false;
        const { name, value: text } = row as { name?: unknown; value?: unknown };
        const trimmed = typeof name === "string" ? name.trim() : name === undefined || name === null ? "" : String(name);
        if (trimmed === "") return true;
        // What a header value can carry (as request-headers' isHeaderValue): tab, visible ASCII, Latin-1.
        return (
          new RegExp(rule.namePattern).test(trimmed) &&
          (text === undefined || text === null || !/[^\t\x20-\x7e\x80-\xff]/.test(String(text)))
        );
      });
    }
    case "origins": {
      if (value === undefined || value === null) return true;
      const lines: unknown[] | null = Array.isArray(value) ? value : typeof value === "string" ? value.split(/\r?\n/) : null;
      return (
        lines !== null &&
        lines.every((line) => {
          if (typeof line !== "string") return false;
          const entry = line.trim();
          if (entry === "" || entry === "*") return true;
          try {
            const url = new URL(entry);
            // Only an origin: a path, query or user in the entry would suggest a finer check than is made.
            return (
              (url.protocol === "http:" || url.protocol === "https:") &&
              url.hostname !== "" &&
              url.username === "" &&
              url.password === "" &&
              url.search === "" &&
              url.hash === "" &&
              url.pathname === "/" &&
              !/[?#]/.test(entry)
            );
          } catch {
            return false;
          }
        })
      );
    }
  }
}
