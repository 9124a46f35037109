// One delivery attempt with undici: POST the exact body, read the reply, report what happened
// in the terms retry-policy decides on. Retrying and queueing are the caller's job.
import { Agent, type Dispatcher } from "undici";
import { parseRetryAfter, type AttemptOutcome } from "./retry-policy";

/** Replies larger than this are cut: the receiver's answer is informational, the callback is what matters. */
export const MAX_REPLY_BYTES = 1024 * 1024;

export interface DeliveryRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  /** Whole attempt (connect, headers, reply body), in milliseconds. */
  timeoutMs: number;
  dispatcher: Dispatcher;
  /** Aborts the attempt (node closing); reported as a network outcome. */
  signal?: AbortSignal;
}

export interface DeliveryResult {
  outcome: AttemptOutcome;
  statusCode?: number;
  headers?: Record<string, string | string[]>;
  /** The reply: parsed when it is JSON, else text; undefined when there was no reply. */
  payload?: unknown;
  /** Readable cause when there was no HTTP reply (network error, timeout). */
  error?: string;
  /** Seconds, from Retry-After when the receiver sent a readable one. */
  retryAfterSeconds?: number;
}

/**
 * A keep-alive connection pool per node: callbacks to the same receiver reuse sockets, and at
 * most `connections` sockets are open to each origin.
 */
export function createDispatcher(connections: number): Agent {
  return new Agent({ connections, keepAliveTimeout: 30_000, keepAliveMaxTimeout: 600_000, pipelining: 1 });
}

function flattenHeaders(raw: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const [key, value] of Object.entries(raw)) if (value !== undefined) headers[key] = value;
  return headers;
}

function isJson(contentType: string | string[] | undefined): boolean {
  const value = Array.isArray(contentType) ? contentType[0] : contentType;
  return typeof value === "string" && /^application\/([\w.+-]*\+)?json\b/i.test(value.trim());
}

async function readReply(body: Dispatcher.ResponseData["body"]): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    const room = MAX_REPLY_BYTES - size;
    if (room <= 0) continue; // keep draining so the socket can be reused
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    chunks.push(part);
    size += part.length;
  }
  return Buffer.concat(chunks).toString("utf8");
}

function describeError(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as Error & { cause?: unknown }).cause;
    const code = (err as Error & { code?: unknown }).code;
    // fetch-style errors hide the useful part ("connect ECONNREFUSED ...") in the cause.
    if (cause instanceof Error && cause.message) return cause.message;
    return typeof code === "string" && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}

/**
 * Origin and path of a URL, as undici's top-level request() derives them, remembered for the last
 * few URLs: parsing the same URL again on every attempt was a tenth of an attempt's CPU time.
 */
const parsedUrls = new Map<string, { origin: string; path: string }>();
function originAndPath(url: string): { origin: string; path: string } {
  let parsed = parsedUrls.get(url);
  if (!parsed) {
    const u = new URL(url);
    parsed = { origin: u.origin, path: u.search ? `${u.pathname}${u.search}` : u.pathname };
    if (parsedUrls.size >= 64) parsedUrls.clear();
    parsedUrls.set(url, parsed);
  }
  return parsed;
}

/** Posts once. Never throws: every failure is an outcome. */
export async function deliverOnce(req: DeliveryRequest): Promise<DeliveryResult> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error(`no complete reply within ${req.timeoutMs / 1000} s`));
  }, req.timeoutMs);
  const onAbort = (): void => controller.abort(new Error("delivery stopped: the node is closing"));
  if (req.signal) {
    if (req.signal.aborted) onAbort();
    else req.signal.addEventListener("abort", onAbort, { once: true });
  }
  try {
    const { origin, path } = originAndPath(req.url);
    const response = await req.dispatcher.request({
      origin,
      path,
      method: "POST",
      headers: req.headers,
      body: req.body,
      signal: controller.signal,
      headersTimeout: req.timeoutMs,
      bodyTimeout: req.timeoutMs,
    });
    const headers = flattenHeaders(response.headers);
    const text = await readReply(response.body);
    let payload: unknown = text;
    if (isJson(headers["content-type"]) && text.length > 0) {
      try {
        payload = JSON.parse(text) as unknown;
      } catch {
        payload = text; // a receiver that mislabels its reply still gets its text shown
      }
    }
    const retryAfterHeader = headers["retry-after"];
    const retryAfter = Array.isArray(retryAfterHeader) ? retryAfterHeader[0] : retryAfterHeader;
    const result: DeliveryResult = {
      outcome: { kind: "response", statusCode: response.statusCode, retryAfter },
      statusCode: response.statusCode,
      headers,
      payload,
    };
    const seconds = parseRetryAfter(retryAfter);
    if (seconds !== undefined) result.retryAfterSeconds = seconds;
    return result;
  } catch (err) {
    const code = err instanceof Error ? (err as Error & { code?: unknown }).code : undefined;
    if (timedOut || code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT") {
      const error = `timeout: no complete reply within ${req.timeoutMs / 1000} s`;
      return { outcome: { kind: "timeout", error }, error };
    }
    const error = controller.signal.aborted ? describeError(controller.signal.reason) : describeError(err);
    return { outcome: { kind: "network", error }, error };
  } finally {
    clearTimeout(timer);
    req.signal?.removeEventListener("abort", onAbort);
  }
}
