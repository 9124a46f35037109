// The sidebar's view types: what callback out and callback in keep and show, shaped for the
// deliveries sidebar. They live here, below send/ and receive/, so that both and the sidebar's API
// import them without an import running up.

/** callback out's receiver as its attempts found it. */
export interface Health {
  /** "unknown" until the first attempt ends. */
  state: "unknown" | "up" | "failing";
  /** Epoch ms of the first failed attempt of the current failing streak. */
  since?: number;
  lastStatus?: number;
  lastError?: string;
  /** The receiver is paused after failing attempts: since when, and its next test attempt. */
  paused?: { since: number; nextTest: number };
}

/** One attempt of a callback as its record keeps it (shared/attempts.ts bounds it). */
export interface AttemptRecord {
  /** Epoch ms the attempt started. */
  at: number;
  /** How long it took, in milliseconds. */
  ms: number;
  statusCode?: number;
  /** Why there was no reply (network error, timeout). */
  error?: string;
  /** The reply's first KB. */
  reply?: string;
}

/** A callback opened in the sidebar: what was sent (the exact body, no header) and its attempts. */
export interface CallbackDetail {
  id: string;
  executionId: string;
  /** The exact body sent ("" when it could not be read back). */
  body: string;
  attempts: AttemptRecord[];
}

export interface DeliveredView {
  id: string;
  executionId: string;
  at: number;
  statusCode?: number;
  attempts: number;
  /** The reply's first 200 characters. */
  reply: string;
}

/** A callback callback out gave up on, as kept (with the exact body, for resend). */
export interface GaveUpRecord {
  /** The outbox entry's id. */
  id: string;
  executionId: string;
  /** The exact body, for resend. */
  body: string;
  url?: string;
  topic?: string;
  attempts: number;
  /** Epoch ms it was given up. */
  at: number;
  /** Why: "cancelled", or the last attempt's cause ("HTTP 410", "connect ECONNREFUSED ..."). */
  why: string;
  statusCode?: number;
  /** The latest attempts (bounded). */
  history?: AttemptRecord[];
}

/** A gave-up callback as the sidebar lists it. */
export type GaveUpView = Omit<GaveUpRecord, "body" | "url" | "topic" | "history">;

/**
 * "accepted", "duplicate", "simulated" or "replayed" (from the sidebar, no request), or the
 * refusal cause (e.g. "rate-limited", "bad-signature").
 */
export type RequestOutcome = string;

export interface RequestRecord {
  at: number;
  /** The client's address as the socket saw it. */
  client: string;
  /** The reply's HTTP status (none for a simulated or replayed payload: no request was answered). */
  reply?: number | undefined;
  outcome: RequestOutcome;
  executionId?: string | undefined;
  agentLoopName?: string | undefined;
  status?: string | undefined;
  /** The output a simulated or replayed payload went to (completed, failed, timeout). */
  output?: string | undefined;
}

/** A request opened in the sidebar: its headers (secret, signature, auth and cookie values removed) and the body that arrived (first 4 KB). */
export interface RequestDetail {
  id: number;
  headers: Record<string, string>;
  /** Headers that came but whose values are never shown (a secret, a signature, credentials). */
  hidden: string[];
  /** The accepted body while it is kept (pretty JSON, first 4 KB); "" for a refusal or one let go. */
  body: string;
}

export interface RequestView extends RequestRecord {
  /** Sequence number of the request in this node's log, for replay. */
  id: number;
  /** Whether its payload is still kept (replay possible). */
  replayable: boolean;
  /** A refusal: how many alike (same cause, client and reply) in a row; `at` is the latest. */
  count?: number;
}

export interface RequestCounts {
  accepted: number;
  duplicate: number;
  refused: number;
}
