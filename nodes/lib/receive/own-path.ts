// Which request paths a callback in's Path matches on its own server, as Express would route it on
// Node-RED's: case-insensitive, one trailing slash ignored, ":name" segments match any one segment.

export type PathMatcher = (pathname: string) => boolean;

/** A request target that is a plain path (letters, digits, "_", "~", "-" segments): its own URL pathname. */
const PLAIN_TARGET = /^(?:\/[\w~-]+)+\/?$/;

/**
 * The pathname of a request target. A plain path is its own pathname, which spares parsing a URL
 * on every request; anything else (query, dots, escapes, "//") goes through the URL parser.
 */
export function targetPathname(target: string | undefined): string {
  if (target !== undefined && PLAIN_TARGET.test(target)) return target;
  try {
    return new URL(target ?? "/", "http://x").pathname;
  } catch {
    return "";
  }
}

function segments(path: string): string[] {
  return path
    .replace(/\/{2,}/g, "/")
    .replace(/\/$/, "")
    .split("/")
    .slice(1);
}

/** Routes are keyed like Express keys them: case-insensitive, repeated slashes as one, without a trailing slash. */
export function pathKey(path: string): string {
  const single = path.includes("//") ? path.replace(/\/{2,}/g, "/") : path;
  return ((single.endsWith("/") ? single.slice(0, -1) : single) || "/").toLowerCase();
}

export function pathMatcher(path: string): PathMatcher {
  const pattern = segments(path).map((s) => (s.startsWith(":") ? undefined : s.toLowerCase()));
  if (!pattern.includes(undefined)) {
    // No ":name" segment: one string comparison per request.
    const literal = pathKey(path);
    return (pathname) => pathname !== "" && pathKey(pathname) === literal;
  }
  return (pathname) => {
    const given = segments(pathname).map((s) => s.toLowerCase());
    if (given.length !== pattern.length) return false;
    return pattern.every((want, i) => (want === undefined ? given[i] !== "" : want === given[i]));
  };
}

function decodedSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The ":name" segments of `path` as they are in `pathname`, decoded, as Express gives them in req.params. */
export function pathParams(path: string, pathname: string): Record<string, string> {
  const given = segments(pathname);
  const params: Record<string, string> = {};
  segments(path).forEach((segment, i) => {
    const value = given[i];
    if (segment.startsWith(":") && value !== undefined) params[segment.slice(1)] = decodedSegment(value);
  });
  return params;
}
