// Which request paths a callback in's Path matches on its own server, as Express would route it on
// Node-RED's: case-insensitive, one trailing slash ignored, ":name" segments match any one segment.

export type PathMatcher = (pathname: string) => boolean;

function segments(path: string): string[] {
  return path
    .replace(/\/{2,}/g, "/")
    .replace(/\/$/, "")
    .split("/")
    .slice(1);
}

export function pathMatcher(path: string): PathMatcher {
  const pattern = segments(path).map((s) => (s.startsWith(":") ? undefined : s.toLowerCase()));
  return (pathname) => {
    const given = segments(pathname).map((s) => s.toLowerCase());
    if (given.length !== pattern.length) return false;
    return pattern.every((want, i) => (want === undefined ? given[i] !== "" : want === given[i]));
  };
}
