// The request pipeline of one callback in endpoint, on plain node:http requests so that any server
// can feed it (Node-RED's Express app or a server of our own). Checks run in order of cost: content
// type, declared size and every header check before a byte of the body is read, then the rate
// limits and the pending-bytes budget, the body (bounded), its signature, JSON + schema and
// duplicates; then the sender is answered and the accepted payload handed over with its output.
// Refusals before authentication count against the client's address, never the endpoint's budget,
// and a request whose signature verifies is never refused for its address's refusals.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import { AGENT_LOOP, type ReceivedPayload, type Reading, type Source } from "./sources/source";
import { isJsonMediaType } from "../shared/json-media-type";
import { readRawBody, type RawBodyResult } from "./body";
import { ClientLimiter, clientAddress } from "./client-limit";
import { PendingBudget } from "./pending";
import { isStoreUnavailable } from "../store/connection";
import { CallbackPendingError } from "./store-dedupe";
import { forFlow } from "./flow-response";
import { TokenBucket, type TakeResult } from "./rate-limit";
import { replyJson, replyJsonText } from "./reply";
import type { ReceiveSettings } from "./settings";
import { checkHeaders, verifyBody, type VerifyFailure, type VerifyOptions } from "./verify";
import type { RequestLog } from "./request-log";

/** Why a request was refused; a key of the `causes` messages, never sent to the caller. */
export type RejectCause =
  | VerifyFailure
  | "rate-limited"
  | "client-rate-limited"
  | "busy"
  | "store-unavailable"
  | "pending"
  | "unsupported-media-type"
  | "too-large"
  | "aborted"
  | "consumed"
  | "invalid-json"
  | "invalid-payload";

// Replies are part of the HTTP contract with senders, so they are fixed English, not localised.
const UNAUTHORIZED = { error: "Unauthorized" };
const INTERNAL_ERROR = { error: "Internal Server Error" };
const BUSY_RETRY_SECONDS = 5;
const RECEIVED = JSON.stringify({ received: true });
const RECEIVED_DUPLICATE = JSON.stringify({ received: true, duplicate: true });
const REPLIES = {
  rateLimited: (seconds: number) => `Too many requests: retry after ${seconds} s`,
  unsupportedMediaType: "Content-Type must be application/json (UTF-8, no Content-Encoding)",
  tooLarge: (kib: number) => `Body too large: at most ${kib} KiB`,
  aborted: "Request body was incomplete",
  busy: "Too many request bodies being received: retry later",
  consumed: "Request body was consumed before it could be verified",
  invalidJson: (detail: string) => `(body): expected JSON: ${detail}`,
  storeUnavailable: (seconds: number) => `Service unavailable: retry after ${seconds} s`,
  pending: (seconds: number) => `Callback is being processed: retry after ${seconds} s`,
};

/** Seconds a sender is asked to wait while the shared store cannot be reached. */
export const STORE_RETRY_AFTER_SECONDS = 5;

/** Remembers execution_ids: in memory (one instance) or in a shared store (answers later). */
export interface DedupeCheck {
  /** True when `id` was seen already; otherwise remembers it (a store may reject: then 503). */
  checkAndRemember(id: string): boolean | Promise<boolean>;
  /** After a new callback was emitted: a store keeps it as seen from then on. */
  emitted?(id: string): Promise<void>;
}

/** The endpoint's rate limit: in memory (one instance) or in a shared store (answers later). */
export interface RateLimit {
  take(): TakeResult | Promise<TakeResult>;
  /** Whether a token is left, without taking it (an early refusal of requests not yet authenticated). */
  peek(): TakeResult;
}

/** Headers that carry proof of the secret: the flow never sees them (the check has happened). */
const SIGNATURE_HEADERS = ["x-signature", "webhook-signature"];

/**
 * JSON is UTF-8 (RFC 8259) and the signature covers the bytes as sent: another charset or any
 * content coding (gzip, ...) would be read as something else than what was signed.
 */
function isPlainUtf8(headers: IncomingHttpHeaders): boolean {
  const coding = (headers["content-encoding"] ?? "").trim().toLowerCase();
  if (coding !== "" && coding !== "identity") return false;
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(headers["content-type"] ?? "")?.[1]?.toLowerCase();
  return charset === undefined || charset === "utf-8" || charset === "utf8";
}

/** The body size the sender declared, when it declared one. */
function declaredLength(req: IncomingMessage): number | undefined {
  const value = req.headers["content-length"];
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
}

/** An accepted callback as the flow gets it (the owner adds the msg id). */
export interface ReceivedMessage {
  payload: ReceivedPayload;
  topic: string;
  /** A platform's event as received. */
  event?: unknown;
  /** Why a platform's result could not be read back. */
  fetchError?: string;
  /** Put into the flow again from the sidebar (replay), or made up there (simulate): no request. */
  replayed?: true;
  simulated?: true;
  req?: unknown;
  res?: unknown;
}

export interface ReceiverCounts {
  accepted: number;
  rejected: number;
}

export interface ReceiverEvents {
  /** An accepted, new callback for output `output` (0 completed, 1 failed, 2 timeout, 3 a platform's other events). */
  onMessage(output: number, msg: ReceivedMessage): void;
  /** The counts changed. */
  onCounts(counts: ReceiverCounts): void;
  /** A request answered: "accepted", "duplicate" or the refusal's cause (for the metrics). */
  onOutcome?(outcome: "accepted" | "duplicate" | RejectCause): void;
  /** The first rejection for `cause`; later ones are only counted, so a flood does not flood the log. */
  onFirstRejection(cause: RejectCause, status: number): void;
  /** An exception in our own code; the request was answered 500 without any of it. */
  onError(err: unknown): void;
  /** The shared store could not be reached: the request was answered 503 and nothing was emitted. */
  onStoreUnavailable?(err: Error): void;
}

export interface ReceiverOptions {
  settings: ReceiveSettings;
  dedupe: DedupeCheck;
  /** The endpoint's rate limit; by default a token bucket in memory of settings.rateLimit a minute. */
  rateLimit?: RateLimit;
  events: ReceiverEvents;
  /** msg.req / msg.res for `respond: flow`; by default core http in's shape over Express's response. */
  forFlow?: (req: IncomingMessage, res: ServerResponse, hiddenHeaders: readonly string[]) => { req: unknown; res: unknown };
  /** Where each answered request is noted for the deliveries sidebar (O(1) per request). */
  requestLog?: RequestLog;
  /** Who sends and how its bodies are read; by default the agent-loop callback. */
  source?: Source;
}

export class Receiver {
  private readonly counts: ReceiverCounts = { accepted: 0, rejected: 0 };
  private readonly loggedCauses = new Set<RejectCause>();
  private readonly bucket: RateLimit;
  private readonly clients: ClientLimiter;
  private readonly pending: PendingBudget;
  private readonly verify: VerifyOptions;

  constructor(private readonly options: ReceiverOptions) {
    const { settings } = options;
    this.bucket = options.rateLimit ?? new TokenBucket(settings.rateLimit);
    // Failed requests get the same per-minute allowance per client as the endpoint has for good ones.
    this.clients = new ClientLimiter(settings.rateLimit);
    this.pending = new PendingBudget(settings.maxPendingBytes);
    this.verify = {
      mode: settings.verify,
      secrets: settings.secrets,
      secretHeader: settings.secretHeader,
      toleranceSeconds: settings.toleranceSeconds,
    };
  }

  get accepted(): number {
    return this.counts.accepted;
  }

  get rejected(): number {
    return this.counts.rejected;
  }

  /** Answers one request; never throws and never leaves a request unanswered. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    this.process(req, res).catch((err: unknown) => this.failed(res, err));
  }

  /** A store that cannot be reached or a callback in process elsewhere: 503, the sender retries. */
  private failed(res: ServerResponse, err: unknown): void {
    if (isStoreUnavailable(err)) {
      this.options.events.onStoreUnavailable?.(err);
      const seconds = STORE_RETRY_AFTER_SECONDS;
      const headers = { "Retry-After": String(seconds), Connection: "close" };
      return this.reject(res, "store-unavailable", 503, { error: REPLIES.storeUnavailable(seconds) }, headers);
    }
    if (err instanceof CallbackPendingError) {
      const seconds = err.retryAfterSeconds;
      return this.reject(res, "pending", 503, { error: REPLIES.pending(seconds) }, { "Retry-After": String(seconds) });
    }
    this.fail(res, err);
  }

  /** Answers 500 for an exception of our own, with nothing of it in the reply. */
  fail(res: ServerResponse, err: unknown): void {
    try {
      this.options.events.onError(err);
    } catch {
      // The owner's logging failed too; the sender is still answered below.
    }
    if (!res.headersSent) replyJson(res, 500, INTERNAL_ERROR, { Connection: "close" });
    else if (!res.writableEnded) res.destroy();
  }

  private async process(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { settings } = this.options;
    const client = clientAddress(req, settings.trustProxy);
    if (!isJsonMediaType(req.headers["content-type"]) || !isPlainUtf8(req.headers)) {
      return this.refuse(res, client, "unsupported-media-type", 415, { error: REPLIES.unsupportedMediaType });
    }
    const declared = declaredLength(req);
    if (declared !== undefined && declared > settings.maxBodyBytes) return this.refuse(res, client, "too-large", 413, this.tooLarge());
    // Everything the headers settle is settled before a byte of the body is read.
    const headers = checkHeaders(this.verify, req.headers);
    if (!headers.ok) return this.refuse(res, client, headers.cause, 401, UNAUTHORIZED);
    const authenticated = headers.complete;
    // A client over its allowance of refused requests still has its signature checked (the genuine
    // sender may share a stranger's address, e.g. a proxy's): only what then fails is refused.
    const allowance = authenticated ? undefined : this.clients.check(client);
    // Only authenticated requests spend the endpoint's budget; the others only look at it here.
    const taking = authenticated ? this.bucket.take() : this.bucket.peek();
    const budget = "ok" in taking ? taking : await taking;
    if (!budget.ok) return this.tooMany(res, "rate-limited", budget.retryAfterSeconds);

    const reserved = declared ?? settings.maxBodyBytes;
    if (!this.pending.reserve(client, reserved)) {
      if (allowance && !allowance.ok) return this.tooMany(res, "client-rate-limited", allowance.retryAfterSeconds);
      return this.reject(res, "busy", 503, { error: REPLIES.busy }, { "Retry-After": String(BUSY_RETRY_SECONDS), Connection: "close" });
    }
    let read: RawBodyResult;
    try {
      read = await readRawBody(req, settings.maxBodyBytes);
    } finally {
      this.pending.release(client, reserved);
    }
    if (!read.ok) {
      if (read.reason === "consumed") return this.reject(res, "consumed", 500, { error: REPLIES.consumed });
      const [status, body] = read.reason === "too-large" ? [413, this.tooLarge()] : [400, { error: REPLIES.aborted }];
      if (authenticated) return this.reject(res, read.reason, status, body, { Connection: "close" });
      return this.refuse(res, client, read.reason, status, body);
    }
    if (!authenticated) {
      const verified = verifyBody(this.verify, req.headers, read.body);
      if (!verified.ok) return this.refuse(res, client, verified.cause, 401, UNAUTHORIZED);
      const taking = this.bucket.take();
      const take = "ok" in taking ? taking : await taking;
      if (!take.ok) return this.tooMany(res, "rate-limited", take.retryAfterSeconds);
    }
    return this.parseAndAccept(req, res, client, read.body);
  }

  private async parseAndAccept(req: IncomingMessage, res: ServerResponse, client: string, body: Buffer): Promise<void> {
    let value: unknown;
    try {
      value = JSON.parse(body.toString("utf8"));
    } catch (err) {
      return this.reject(res, "invalid-json", 400, { error: REPLIES.invalidJson(err instanceof Error ? err.message : String(err)) });
    }
    const read = (this.options.source ?? AGENT_LOOP).read(value, req.headers);
    if (!read.ok) return this.reject(res, "invalid-payload", 400, { error: read.error });
    let duplicate = false;
    if (this.options.settings.dedupe) {
      // A store that cannot be reached rejects here: answered 503 by handle(), nothing emitted.
      const checking = this.options.dedupe.checkAndRemember(read.reading.key);
      duplicate = typeof checking === "boolean" ? checking : await checking;
    }
    this.accept(req, res, client, read.reading, duplicate, body.length);
  }

  private tooLarge(): { error: string } {
    return { error: REPLIES.tooLarge(this.options.settings.maxBodyBytes / 1024) };
  }

  /** A refusal before authentication: counted against the client, 429 once it is over its limit. */
  private refuse(res: ServerResponse, client: string, cause: RejectCause, status: number, body: unknown): void {
    const allowed = this.clients.fail(client);
    if (!allowed.ok) return this.tooMany(res, "client-rate-limited", allowed.retryAfterSeconds);
    this.reject(res, cause, status, body, { Connection: "close" });
  }

  private tooMany(res: ServerResponse, cause: RejectCause, seconds: number): void {
    const headers = { "Retry-After": String(seconds), Connection: "close" };
    this.reject(res, cause, 429, { error: REPLIES.rateLimited(seconds) }, headers);
  }

  private accept(req: IncomingMessage, res: ServerResponse, client: string, reading: Reading, duplicate: boolean, bytes: number): void {
    const { settings, events, requestLog } = this.options;
    const { payload } = reading;
    this.counts.accepted++;
    events.onCounts(this.counts);
    events.onOutcome?.(duplicate ? "duplicate" : "accepted");
    if (requestLog) {
      const request = {
        at: Date.now(),
        client,
        reply: 200,
        outcome: duplicate ? "duplicate" : "accepted",
        executionId: payload.execution_id,
        agentLoopName: payload.agent_loop_name ?? undefined,
        status: payload.status ?? undefined,
      };
      if (duplicate) requestLog.record(request, undefined, 0, req.headers);
      else requestLog.record(request, reading, bytes, req.headers);
    }
    if (duplicate) return replyJsonText(res, 200, RECEIVED_DUPLICATE);
    const msg: ReceivedMessage = { payload, topic: reading.topic };
    if (reading.event !== undefined) msg.event = reading.event;
    if (settings.respondInFlow) {
      const flow = (this.options.forFlow ?? forFlow)(req, res, [settings.secretHeader, ...SIGNATURE_HEADERS]);
      msg.req = flow.req;
      msg.res = flow.res;
    } else {
      // Reply first: the sender must not wait for (or be failed by) the flow.
      replyJsonText(res, 200, RECEIVED);
    }
    this.completed(reading, msg, true, (done) => this.emit(reading, done));
  }

  /**
   * A reading sent again from the sidebar (replay: its result read back again, as for the request)
   * or made up there (simulate: already complete). Dedupe is not asked: it is deliberate.
   */
  emitAgain(reading: Reading, mark: { replayed: true } | { simulated: true }): void {
    const msg: ReceivedMessage = { payload: reading.payload, topic: reading.topic, ...mark };
    if (reading.event !== undefined) msg.event = reading.event;
    this.completed(reading, msg, "replayed" in mark, (done) => this.options.events.onMessage(reading.output, done));
  }

  /** Reads the result back first when `fetch` and the sender has one to read; then `send`s the msg. */
  private completed(reading: Reading, msg: ReceivedMessage, fetch: boolean, send: (msg: ReceivedMessage) => void): void {
    const completing = fetch ? this.options.source?.complete?.(reading) : undefined;
    if (!completing) return send(msg);
    // A fault of our own while reading the result back still lets the event through, as received.
    void completing.then(
      (done) => send({ ...msg, ...done }),
      (err: unknown) => {
        this.options.events.onError(err);
        send({ ...msg, fetchError: err instanceof Error ? err.message : String(err) });
      },
    );
  }

  private emit(reading: Reading, msg: ReceivedMessage): void {
    this.options.events.onMessage(reading.output, msg);
    if (this.options.settings.dedupe) this.options.dedupe.emitted?.(reading.key).catch((err: unknown) => this.storeLost(err));
  }

  /** A store that went away after the callback was emitted: reported, the reply stands. */
  private storeLost(err: unknown): void {
    if (isStoreUnavailable(err)) this.options.events.onStoreUnavailable?.(err);
    else this.options.events.onError(err);
  }

  private reject(res: ServerResponse, cause: RejectCause, status: number, body: unknown, headers?: Record<string, string>): void {
    this.counts.rejected++;
    this.options.events.onOutcome?.(cause);
    const { requestLog, settings } = this.options;
    requestLog?.record(
      {
        at: Date.now(),
        client: res.req ? clientAddress(res.req, settings.trustProxy) : "",
        reply: status,
        outcome: cause,
      },
      undefined,
      0,
      res.req?.headers,
    );
    if (!this.loggedCauses.has(cause)) {
      this.loggedCauses.add(cause);
      this.options.events.onFirstRejection(cause, status);
    }
    replyJson(res, status, body, headers);
    this.options.events.onCounts(this.counts);
  }
}
