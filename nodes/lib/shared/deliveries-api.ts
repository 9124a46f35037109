// What each running callback in / callback out node offers the deliveries sidebar (the editor
// plugin in nodes/plugins/deliveries.ts finds it on the node as `agentCallbackDeliveries`). Views
// hold no secret, token, signature or request header: only what the sidebar shows.
import type { CallbackDetail, DeliveredView, GaveUpView, RequestDetail, Health, RequestCounts, RequestView } from "./views";

/** The runtime event a node emits (coalesced, at most a few times a second) when its view changed. */
export const DELIVERIES_CHANGED_EVENT = "agent-callback:deliveries-changed";

export type Selection = { all: true } | { executionIds: readonly string[] };

export interface ActionResult {
  /** How many callbacks the action applied to. */
  count: number;
  /** Requested execution_ids the action found nothing for. */
  notFound: string[];
}

export interface WaitingView {
  id: string;
  executionId: string;
  agentLoopName?: string;
  status?: string;
  attempts: number;
  /** Epoch ms of the next attempt. */
  nextAttempt: number;
  inFlight: boolean;
  lastStatus?: number;
  lastError?: string;
}

export interface OutView {
  kind: "out";
  health: Health;
  counts: { queued: number; inFlight: number; deliveredLastHour: number; gaveUpLastHour: number };
  waiting: WaitingView[];
  /** Waiting callbacks in all (the list shows the first ones due). */
  waitingTotal: number;
  gaveUp: GaveUpView[];
  delivered: DeliveredView[];
  /** Per minute of the last hour, oldest first (this instance's attempts). */
  chart: { delivered: number[]; failed: number[] };
  /** The queue is in a callback store: waiting and gave up are every instance's, health and delivered this instance's. */
  shared?: boolean;
}

export interface OutDeliveries {
  kind: "out";
  view(): Promise<OutView>;
  retry(selection: Selection): Promise<ActionResult>;
  cancel(selection: Selection): Promise<ActionResult>;
  /** Gave-up and delivered callbacks queued again; `{all:true}` means every gave-up one. */
  resend(selection: Selection): Promise<ActionResult>;
  /** A callback opened in the sidebar (by its outbox entry id); undefined when it is kept nowhere now. */
  detail(id: string): Promise<CallbackDetail | undefined>;
}

export interface InView {
  kind: "in";
  /** The endpoint's path as Node-RED serves it (e.g. /agent-results). */
  url: string;
  counts: RequestCounts;
  requests: RequestView[];
  /** Per minute of the last hour, oldest first. */
  chart: { accepted: number[]; refused: number[] };
}

export type SimulatedStatus = "completed" | "failed" | "timeout";

export interface InDeliveries {
  kind: "in";
  view(): InView;
  /** Emits request `id`'s payload again; undefined when the request is unknown or not replayable. */
  replay(id: number): { ok: true; executionId: string; output: string } | { ok: false; reason: "unknown" | "not-replayable" };
  simulate(status: SimulatedStatus): { executionId: string };
  /** A request opened in the sidebar; undefined when it is no longer listed. */
  request(id: number): RequestDetail | undefined;
}

export type NodeDeliveries = OutDeliveries | InDeliveries;
