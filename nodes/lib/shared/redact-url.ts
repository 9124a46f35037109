// A URL as logs, statuses and error messages may show it: without the user name and password it
// may carry (socks5://alice:pw@host, rediss://user:secret@host), also when it does not parse.

const HIDDEN = "***";

/**
 * `text` with its user information replaced by `***`. A URL that parses is redacted on its parsed
 * parts; any other text from its scheme's `//` up to its last `@`, so a password holding an `@` is
 * hidden whole.
 */
export function redactUrl(text: string): string {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (url && url.host !== "") {
    if (url.username === "" && url.password === "") return text;
    url.username = HIDDEN;
    url.password = "";
    return url.href;
  }
  const at = text.lastIndexOf("@");
  if (at < 0) return text;
  const slashes = text.indexOf("//");
  const start = slashes >= 0 && slashes < at ? slashes + 2 : 0;
  return `${text.slice(0, start)}${HIDDEN}${text.slice(at)}`;
}
