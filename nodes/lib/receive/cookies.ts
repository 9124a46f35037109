// The request's cookies as core `http in` gives them to a flow (through the cookie-parser package,
// without a secret): first value of a name wins, %-escapes decoded, "j:" values parsed as JSON.

function decoded(value: string): string {
  const unquoted = value.length > 1 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
  if (!unquoted.includes("%")) return unquoted;
  try {
    return decodeURIComponent(unquoted);
  } catch {
    return unquoted;
  }
}

/** A "j:" value that is JSON becomes that JSON; anything else stays the text it was. */
function jsonCookie(value: string): unknown {
  if (!value.startsWith("j:")) return value;
  try {
    return JSON.parse(value.slice(2)) as unknown;
  } catch {
    return value;
  }
}

/** req.cookies from a Cookie header (or none). */
export function parseCookies(header: string | undefined): Record<string, unknown> {
  const cookies: Record<string, unknown> = {};
  for (const part of (header ?? "").split(";")) {
    const equals = part.indexOf("=");
    if (equals < 0) continue;
    const name = part.slice(0, equals).trim();
    // "__proto__" is dropped, as core's parser drops it: it must never set the object's prototype.
    if (name === "" || name === "__proto__" || Object.hasOwn(cookies, name)) continue;
    cookies[name] = jsonCookie(decoded(part.slice(equals + 1).trim()));
  }
  return cookies;
}
