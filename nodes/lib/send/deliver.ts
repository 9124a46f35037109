// One delivery attempt with undici: POST the exact body, read the reply, report what happened
// in the terms retry-policy decides on. Retrying and queueing are the caller's job.
import type { Dispatcher } from "undici";
import { isJsonMediaType } from "../shared/json-media-type";
import { failureKind, type DeliveryMessages } from "./failure-words";
import { isHeaderValue } from "./request-headers";
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
  /** The causes deliver names itself, in the user's language (the node's catalog). */
  messages: DeliveryMessages;
}

export type { DeliveryMessages } from "./failure-words";

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
  /** Epoch ms the attempt started and how long it took (set by Sender for the attempts a record keeps). */
  startedAt?: number;
  ms?: number;
}

function flattenHeaders(raw: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const [key, value] of Object.entries(raw)) if (value !== undefined) headers[key] = value;
  return headers;
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
 * few URLs, since most attempts go to the same few receivers and parsing is not free.
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

interface Reply {
  statusCode: number;
  headers: Record<string, string | string[]>;
  text: string;
}

/**
 * One POST as an undici dispatch handler: the reply is collected as it comes (up to
 * MAX_REPLY_BYTES, the rest drained), without the stream and abort-signal machinery of undici's
 * request(), which an attempt does not need. `stop` aborts it at any point:
 * before the request is written (it then never is) or while the reply comes. A class, not
 * closures: one object per attempt.
 */
class PostHandler implements Dispatcher.DispatchHandler {
  readonly reply: Promise<Reply>;
  private resolve!: (reply: Reply) => void;
  private reject!: (err: Error) => void;
  private settled = false;
  private controller: Dispatcher.DispatchController | undefined;
  private stopReason: Error | undefined;
  private statusCode = 0;
  private headers: Record<string, string | string[]> = {};
  private readonly chunks: Buffer[] = [];
  private size = 0;

  constructor() {
    this.reply = new Promise<Reply>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.stopReason) controller.abort(this.stopReason);
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    // 1xx replies are informational: the final one follows.
    if (statusCode < 200) return;
    this.statusCode = statusCode;
    this.headers = flattenHeaders(headers);
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    const room = MAX_REPLY_BYTES - this.size;
    if (room <= 0) return; // keep draining so the socket can be reused
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.chunks.push(part);
    this.size += part.length;
  }

  onResponseEnd(): void {
    if (this.settled) return;
    this.settled = true;
    this.resolve({ statusCode: this.statusCode, headers: this.headers, text: Buffer.concat(this.chunks, this.size).toString("utf8") });
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.fail(err);
  }

  fail(err: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.reject(err);
  }

  stop(reason: Error): void {
    if (this.settled) return;
    this.stopReason = reason;
    this.controller?.abort(reason);
    // Settled now even while the request waits for a connection: it is aborted when it gets one.
    this.fail(reason);
  }
}

function post(dispatcher: Dispatcher, options: Dispatcher.DispatchOptions): PostHandler {
  const handler = new PostHandler();
  try {
    dispatcher.dispatch(options, handler);
  } catch (err) {
    handler.fail(err instanceof Error ? err : new Error(String(err)));
  }
  return handler;
}

/** The name of the first header whose value a request cannot carry, if any. */
function unsendableHeader(headers: Record<string, string>): string | undefined {
  for (const name in headers) if (!isHeaderValue(headers[name] ?? "")) return name;
  return undefined;
}

/** Posts once. Never throws: every failure is an outcome. */
/** The receiver's reply as a result: the body parsed when it says it is JSON, Retry-After read. */
function responseResult(reply: Reply): DeliveryResult {
  const { statusCode, headers, text } = reply;
  let payload: unknown = text;
  if (isJsonMediaType(headers["content-type"]) && text.length > 0) {
    try {
      payload = JSON.parse(text) as unknown;
    } catch {
      payload = text; // a receiver that mislabels its reply still gets its text shown
    }
  }
  const retryAfterHeader = headers["retry-after"];
  const retryAfter = Array.isArray(retryAfterHeader) ? retryAfterHeader[0] : retryAfterHeader;
  const result: DeliveryResult = { outcome: { kind: "response", statusCode, retryAfter }, statusCode, headers, payload };
  const seconds = parseRetryAfter(retryAfter);
  if (seconds !== undefined) result.retryAfterSeconds = seconds;
  return result;
}

/** An attempt that got no reply: a timeout (ours or undici's), or the network error (or why we stopped it). */
function failureResult(err: unknown, req: DeliveryRequest, timedOut: boolean, stopped: Error | undefined): DeliveryResult {
  const code = err instanceof Error ? (err as Error & { code?: unknown }).code : undefined;
  if (timedOut || code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT") {
    const error = req.messages.timeout(req.timeoutMs / 1000);
    return { outcome: { kind: "timeout", error }, error };
  }
  // Plain words first (what happened, what to check), the system's own error after them.
  const error = stopped ? describeError(stopped) : req.messages.unreachable(failureKind(err), req.url, describeError(err));
  return { outcome: { kind: "network", error }, error };
}

export async function deliverOnce(req: DeliveryRequest): Promise<DeliveryResult> {
  // undici would throw on such a value at every attempt, for the whole retry schedule: refuse it once.
  const unsendable = unsendableHeader(req.headers);
  if (unsendable !== undefined) {
    const error = `header ${unsendable}: its value holds a character a request cannot carry (line break, NUL, control, or past Latin-1)`;
    return { outcome: { kind: "refused", error }, error };
  }
  let timedOut = false;
  let stopped: Error | undefined;
  let attempt: PostHandler | undefined;
  const stop = (reason: Error): void => {
    stopped ??= reason;
    attempt?.stop(reason);
  };
  const timer = setTimeout(() => {
    timedOut = true;
    stop(new Error(req.messages.timeout(req.timeoutMs / 1000)));
  }, req.timeoutMs);
  const onAbort = (): void => stop(new Error(req.messages.stopped));
  if (req.signal) {
    if (req.signal.aborted) onAbort();
    else req.signal.addEventListener("abort", onAbort, { once: true });
  }
  try {
    if (stopped) throw stopped;
    const { origin, path } = originAndPath(req.url);
    attempt = post(req.dispatcher, {
      origin,
      path,
      method: "POST",
      headers: req.headers,
      body: req.body,
      headersTimeout: req.timeoutMs,
      bodyTimeout: req.timeoutMs,
    });
    return responseResult(await attempt.reply);
  } catch (err) {
    return failureResult(err, req, timedOut, stopped);
  } finally {
    clearTimeout(timer);
    req.signal?.removeEventListener("abort", onAbort);
  }
}
