// The headers of one attempt, by where it goes: the node's URL and origins listed by name get the
// node's headers, credentials and signature; an origin allowed only by `*` gets none of them; an
// origin no longer allowed (a journaled msg.url after the list changed) gets nothing sent at all.
import type { OriginPolicy } from "./origins";
import {
  bareHeaders,
  requestHeaders,
  type CallbackCredentials,
  type HeaderSettings,
  type MessageText,
  type SignedRequest,
} from "./request-headers";

export interface AttemptTarget {
  url: string;
  /** Whether `url` is the node's own URL (then msg.url rules do not apply). */
  nodeUrl: boolean;
}

/** The headers, or why nothing may be sent to that URL. */
export function attemptHeaders(
  target: AttemptTarget,
  origins: OriginPolicy,
  settings: HeaderSettings,
  credentials: CallbackCredentials,
  request: SignedRequest,
  message: MessageText,
): { headers: Record<string, string> } | { refused: string } {
  if (target.nodeUrl) return { headers: requestHeaders(settings, credentials, request) };
  const verdict = origins.check(target.url);
  if (!verdict.allowed) return { refused: message("errors.origin-withdrawn", { origin: verdict.origin }) };
  return { headers: verdict.credentials ? requestHeaders(settings, credentials, request) : bareHeaders(settings) };
}
