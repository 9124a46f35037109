// callback in's side of the deliveries sidebar: the request log, and the two actions that put a
// payload into the flow without an HTTP request (replay of an accepted one, simulate).
import { RequestLog } from "./request-log";
import type { RequestDetail } from "../shared/views";
import { simulatedPayload } from "./simulate";
import type { CallbackPayload } from "../shared/payload";
import type { InDeliveries, InView, SimulatedStatus } from "../shared/deliveries-api";

/** Sends a payload on the output of its status, with extra msg properties (replayed, simulated). */
export type EmitPayload = (payload: CallbackPayload, extra: { replayed?: true; simulated?: true }) => void;

export class ReceiveSidebar implements InDeliveries {
  readonly kind = "in";
  constructor(
    private readonly fullPath: () => string,
    private readonly emit: EmitPayload,
    /** A redeploy hands over the log of the node it replaces, so the sidebar keeps its history. */
    readonly log: RequestLog = new RequestLog(),
    /** Header names whose values are never shown (the node's secret header). */
    private readonly hidden: readonly string[] = [],
  ) {}

  request(id: number): RequestDetail | undefined {
    return this.log.detail(id, this.hidden);
  }

  view(): InView {
    return { kind: "in", url: this.fullPath(), counts: this.log.counts(), requests: this.log.list(), chart: this.log.chart() };
  }

  replay(id: number): { ok: true; executionId: string; output: string } | { ok: false; reason: "unknown" | "not-replayable" } {
    if (!this.log.has(id)) return { ok: false, reason: "unknown" };
    const payload = this.log.payload(id) as CallbackPayload | undefined;
    if (!payload) return { ok: false, reason: "not-replayable" };
    // Dedupe is not asked: a replay is a deliberate second delivery.
    this.emit(payload, { replayed: true });
    this.trace("replayed", payload);
    return { ok: true, executionId: payload.execution_id, output: payload.status };
  }

  simulate(status: SimulatedStatus): { executionId: string } {
    const payload = simulatedPayload(status);
    this.emit(payload, { simulated: true });
    this.trace("simulated", payload);
    return { executionId: payload.execution_id };
  }

  /** A payload the sidebar put into the flow, listed in Last requests with the output it went to (its status's). */
  private trace(outcome: "replayed" | "simulated", payload: CallbackPayload): void {
    this.log.record({
      at: Date.now(),
      client: "",
      outcome,
      executionId: payload.execution_id,
      agentLoopName: payload.agent_loop_name ?? undefined,
      status: payload.status,
      output: payload.status,
    });
  }
}
