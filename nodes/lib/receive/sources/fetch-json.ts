// Reads one JSON object from a platform's API with undici: a few tries over a bounded time
// (network errors, 429 and 5xx are tried again; other answers are final), a bounded body, and
// errors that name the URL and the answer but never the request's headers (they carry the key).
import { request } from "undici";
import { messagesFor, type Translate } from "../../shared/messages";

/** About 10 s of tries, as the callback's msg must not wait much longer for its result. */
export const FETCH_DEADLINE_MS = 10_000;
/** A response or session is a few KiB to a few hundred; more than this is not what was asked for. */
export const MAX_FETCH_BYTES = 8 * 1024 * 1024;
const FIRST_DELAY_MS = 500;
const ATTEMPT_TIMEOUT_MS = 5_000;

export interface FetchOptions {
  deadlineMs?: number;
  maxBytes?: number;
  /** callback in's messages, in Node-RED's language (the error lands in a warning and msg.fetchError). */
  t?: Translate;
}

/** English, for a caller that passes no translate function. */
const english = messagesFor((key) => key, "agent-callback-in", "callback-in");

export type FetchResult = { ok: true; value: unknown } | { ok: false; error: string };

type Attempt = FetchResult & { retry: boolean };

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as Error & { cause?: unknown }).cause;
  return cause instanceof Error && cause.message ? cause.message : err.message;
}

async function attempt(url: string, headers: Record<string, string>, timeoutMs: number, maxBytes: number, t: Translate): Promise<Attempt> {
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const reply = await request(url, { method: "GET", headers, signal });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of reply.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) {
        reply.body.destroy();
        return { ok: false, retry: false, error: t("fetch.too-large", { kib: Math.round(maxBytes / 1024) }) };
      }
      chunks.push(chunk);
    }
    const text = Buffer.concat(chunks).toString("utf8");
    if (reply.statusCode < 200 || reply.statusCode > 299) {
      const retry = reply.statusCode === 429 || reply.statusCode >= 500;
      return { ok: false, retry, error: `HTTP ${reply.statusCode}` };
    }
    return { ok: true, retry: false, value: JSON.parse(text) as unknown };
  } catch (err) {
    if (err instanceof SyntaxError) return { ok: false, retry: false, error: t("fetch.not-json") };
    return { ok: false, retry: true, error: signal.aborted ? t("fetch.no-answer", { seconds: timeoutMs / 1000 }) : describe(err) };
  }
}

/** GET `url` as JSON, tried again with growing pauses until the deadline. */
export async function fetchJson(url: string, headers: Record<string, string>, options: FetchOptions = {}): Promise<FetchResult> {
  const deadline = Date.now() + (options.deadlineMs ?? FETCH_DEADLINE_MS);
  const maxBytes = options.maxBytes ?? MAX_FETCH_BYTES;
  let delay = FIRST_DELAY_MS;
  const t = options.t ?? english;
  let tries = 0;
  for (;;) {
    tries++;
    const timeout = Math.max(100, Math.min(ATTEMPT_TIMEOUT_MS, deadline - Date.now()));
    const result = await attempt(url, headers, timeout, maxBytes, t);
    if (result.ok) return { ok: true, value: result.value };
    if (!result.retry || Date.now() + delay >= deadline) {
      const count = tries === 1 ? t("fetch.tries-one") : t("fetch.tries", { count: tries });
      return { ok: false, error: `GET ${url}: ${result.error} (${count})` };
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay *= 2;
  }
}
