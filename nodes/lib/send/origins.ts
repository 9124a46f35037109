// Which origins a callback may go to when the URL comes from msg.url, and whether the node's
// credentials and headers go with it. A flow that copies a URL from an agent's request must not
// hand the token (or the signature) to whoever wrote that URL.
import type { MessageText } from "./request-headers";
import { acceptsValue } from "../shared/property-rules";

/** Origin of URLs allowed only through `*`: sent without credentials or the node's headers. */
export const ANY_ORIGIN = "*";

const DEFAULT_PORTS: Readonly<Record<string, string>> = { "http:": "80", "https:": "443" };

/**
 * `scheme://host[:port]` of an http(s) URL, lowercase, with the scheme's default port dropped
 * (WHATWG URL already lowercases scheme and host and drops default ports); undefined when the
 * value is not an http(s) URL.
 */
export function normalisedOrigin(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    return undefined;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return undefined;
  const port = url.port === "" || url.port === DEFAULT_PORTS[url.protocol] ? "" : `:${url.port}`;
  return `${url.protocol}//${url.hostname}${port}`;
}

/** What may be sent to one URL. */
export type OriginVerdict = { allowed: true; credentials: boolean } | { allowed: false; origin: string };

export class OriginPolicy {
  private readonly origins: ReadonlySet<string>;
  private readonly any: boolean;

  constructor(origins: readonly string[]) {
    this.any = origins.includes(ANY_ORIGIN);
    this.origins = new Set(origins.filter((origin) => origin !== ANY_ORIGIN));
  }

  /** The normalised list, as the node keeps it (`*` last). */
  get list(): string[] {
    return [...this.origins, ...(this.any ? [ANY_ORIGIN] : [])];
  }

  /** A listed origin gets credentials; one allowed only by `*` gets none; any other is refused. */
  check(url: string): OriginVerdict {
    const origin = normalisedOrigin(url) ?? url;
    if (this.origins.has(origin)) return { allowed: true, credentials: true };
    if (this.any) return { allowed: true, credentials: false };
    return { allowed: false, origin };
  }
}

/** msg.url when the node has no URL: an http(s) URL of an allowed origin; else throws the msg's error. */
export function urlFromMsg(value: unknown, policy: OriginPolicy, message: MessageText): string {
  const url = typeof value === "string" ? value.trim() : "";
  if (url === "") throw new Error(message("errors.no-url"));
  if (normalisedOrigin(url) === undefined) throw new Error(message("errors.bad-msg-url", { url }));
  const verdict = policy.check(url);
  if (!verdict.allowed) throw new Error(message("errors.origin-not-allowed", { origin: verdict.origin }));
  return url;
}

/**
 * The node's `allowedOrigins` property (an array in the flow JSON; a string of lines is taken
 * too) as a policy. Throws, naming the entry, on one that is not `*` nor `scheme://host[:port]`.
 */
export function readAllowedOrigins(raw: unknown, message: MessageText): OriginPolicy {
  const items: unknown[] = Array.isArray(raw) ? raw : typeof raw === "string" ? raw.split(/\r?\n/) : [];
  const origins: string[] = [];
  for (const item of items) {
    const entry = typeof item === "string" ? item.trim() : "";
    if (entry === "") continue;
    if (entry === ANY_ORIGIN) {
      origins.push(ANY_ORIGIN);
      continue;
    }
    // The editor's rule (only an origin: no path, query or user), so both flag the same lines.
    const origin = acceptsValue({ type: "origins" }, [entry]) ? normalisedOrigin(entry) : undefined;
    if (origin === undefined) throw new Error(message("errors.bad-origin", { origin: entry }));
    origins.push(origin);
  }
  return new OriginPolicy(origins);
}
