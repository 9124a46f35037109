// The request pipeline of one callback in endpoint, on plain node:http requests so that any server
// can feed it (Node-RED's Express app or a server of our own). Checks run in order of cost (rate
// limit, content type, size, authentication over the raw bytes, JSON + schema, duplicates), then
// the sender is answered and the accepted payload handed to the owner with its output.
import type { IncomingMessage, ServerResponse } from "node:http";
import { CALLBACK_STATUSES, checkCallbackPayload, type CallbackPayload } from "../shared/payload";
import { isJsonMediaType } from "../shared/json-media-type";
import { readRawBody } from "./body";
import { isStoreUnavailable } from "../store/connection";
import { CallbackPendingError } from "./store-dedupe";
import { forFlow } from "./flow-response";
import { TokenBucket, type TakeResult } from "./rate-limit";
import { replyJson, replyJsonText } from "./reply";
import type { ReceiveSettings } from "./settings";
import { verifyRequest, type VerifyFailure } from "./verify";

/** Why a request was refused; a key of the `causes` messages, never sent to the caller. */
export type RejectCause =
  | VerifyFailure
  | "rate-limited"
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
const RECEIVED = JSON.stringify({ received: true });
const RECEIVED_DUPLICATE = JSON.stringify({ received: true, duplicate: true });
const REPLIES = {
  rateLimited: (seconds: number) => `Too many requests: retry after ${seconds} s`,
  unsupportedMediaType: "Content-Type must be application/json",
  tooLarge: (kib: number) => `Body too large: at most ${kib} KiB`,
  aborted: "Request body was incomplete",
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
}

/** An accepted callback as the flow gets it (the owner adds the msg id). */
export interface ReceivedMessage {
  payload: CallbackPayload;
  topic: string;
  req?: unknown;
  res?: unknown;
}

export interface ReceiverCounts {
  accepted: number;
  rejected: number;
}

export interface ReceiverEvents {
  /** An accepted, new callback for output `output` (0 completed, 1 failed, 2 timeout). */
  onMessage(output: number, msg: ReceivedMessage): void;
  /** The counts changed. */
  onCounts(counts: ReceiverCounts): void;
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
  forFlow?: (req: IncomingMessage, res: ServerResponse) => { req: unknown; res: unknown };
}

export class Receiver {
  private readonly counts: ReceiverCounts = { accepted: 0, rejected: 0 };
  private readonly loggedCauses = new Set<RejectCause>();
  private readonly bucket: RateLimit;

  constructor(private readonly options: ReceiverOptions) {
    this.bucket = options.rateLimit ?? new TokenBucket(options.settings.rateLimit);
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

  private failed(res: ServerResponse, err: unknown): void {
    if (isStoreUnavailable(err)) return this.storeUnavailable(res, err);
    if (err instanceof CallbackPendingError) {
      const seconds = err.retryAfterSeconds;
      return this.reject(res, "pending", 503, { error: REPLIES.pending(seconds) }, { "Retry-After": String(seconds) });
    }
    this.fail(res, err);
  }

  /** 503 with Retry-After: the sender tries again later, when the store can check the callback. */
  private storeUnavailable(res: ServerResponse, err: Error): void {
    this.options.events.onStoreUnavailable?.(err);
    const seconds = STORE_RETRY_AFTER_SECONDS;
    this.reject(
      res,
      "store-unavailable",
      503,
      { error: REPLIES.storeUnavailable(seconds) },
      { "Retry-After": String(seconds), Connection: "close" },
    );
  }

  /** Answers 500 for an exception of our own, with nothing of it in the reply. */
  fail(res: ServerResponse, err: unknown): void {
    try {
      this.options.events.onError(err);
    } finally {
      replyJson(res, 500, INTERNAL_ERROR);
    }
  }

  private async process(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { settings } = this.options;
    const taking = this.bucket.take();
    const take = "ok" in taking ? taking : await taking;
    if (!take.ok) {
      const seconds = String(take.retryAfterSeconds);
      return this.reject(
        res,
        "rate-limited",
        429,
        { error: REPLIES.rateLimited(take.retryAfterSeconds) },
        { "Retry-After": seconds, Connection: "close" },
      );
    }
    if (!isJsonMediaType(req.headers["content-type"])) {
      return this.reject(res, "unsupported-media-type", 415, { error: REPLIES.unsupportedMediaType }, { Connection: "close" });
    }
    const read = await readRawBody(req, settings.maxBodyBytes);
    if (!read.ok) {
      if (read.reason === "too-large") {
        return this.reject(res, "too-large", 413, { error: REPLIES.tooLarge(settings.maxBodyBytes / 1024) }, { Connection: "close" });
      }
      if (read.reason === "consumed") return this.reject(res, "consumed", 500, { error: REPLIES.consumed });
      return this.reject(res, "aborted", 400, { error: REPLIES.aborted });
    }
    const auth = verifyRequest(
      {
        mode: settings.verify,
        secrets: settings.secrets,
        secretHeader: settings.secretHeader,
        toleranceSeconds: settings.toleranceSeconds,
      },
      req.headers,
      read.body,
    );
    if (!auth.ok) return this.reject(res, auth.cause, 401, UNAUTHORIZED);

    let value: unknown;
    try {
      value = JSON.parse(read.body.toString("utf8"));
    } catch (err) {
      return this.reject(res, "invalid-json", 400, { error: REPLIES.invalidJson(err instanceof Error ? err.message : String(err)) });
    }
    const checked = checkCallbackPayload(value);
    if (!checked.ok) return this.reject(res, "invalid-payload", 400, { error: checked.error });
    let duplicate = false;
    if (settings.dedupe) {
      // A store that cannot be reached rejects here: answered 503 by handle(), nothing emitted.
      const checking = this.options.dedupe.checkAndRemember(checked.payload.execution_id);
      duplicate = typeof checking === "boolean" ? checking : await checking;
    }
    this.accept(req, res, checked.payload, duplicate);
  }

  private accept(req: IncomingMessage, res: ServerResponse, payload: CallbackPayload, duplicate: boolean): void {
    const { settings, events } = this.options;
    this.counts.accepted++;
    events.onCounts(this.counts);
    if (duplicate) return replyJsonText(res, 200, RECEIVED_DUPLICATE);
    const msg: ReceivedMessage = { payload, topic: payload.agent_loop_name ?? "" };
    if (settings.respondInFlow) {
      const flow = (this.options.forFlow ?? forFlow)(req, res);
      msg.req = flow.req;
      msg.res = flow.res;
    } else {
      // Reply first: the sender must not wait for (or be failed by) the flow.
      replyJsonText(res, 200, RECEIVED);
    }
    events.onMessage(CALLBACK_STATUSES.indexOf(payload.status), msg);
    if (settings.dedupe) this.options.dedupe.emitted?.(payload.execution_id).catch((err: unknown) => this.storeLost(err));
  }

  /** A store that went away after the callback was emitted: reported, the reply stands. */
  private storeLost(err: unknown): void {
    if (isStoreUnavailable(err)) this.options.events.onStoreUnavailable?.(err);
    else this.options.events.onError(err);
  }

  private reject(res: ServerResponse, cause: RejectCause, status: number, body: unknown, headers?: Record<string, string>): void {
    this.counts.rejected++;
    if (!this.loggedCauses.has(cause)) {
      this.loggedCauses.add(cause);
      this.options.events.onFirstRejection(cause, status);
    }
    replyJson(res, status, body, headers);
    this.options.events.onCounts(this.counts);
  }
}
