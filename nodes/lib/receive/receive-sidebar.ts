// callback in's side of the deliveries sidebar: the request log, and the two actions that put a
// payload into the flow without an HTTP request (replay of an accepted one, simulate).
import { RequestLog } from "./request-log";
import type { RequestDetail } from "../shared/views";
import { CALLBACK_STATUSES } from "../shared/payload";
import type { InDeliveries, InView, SimulatedStatus } from "../shared/deliveries-api";
import { OTHER_OUTPUT, type Reading } from "./sources/source";

/** Puts a reading into the flow again (replayed) or for the first time (simulated), on its output. */
export type EmitReading = (reading: Reading, mark: { replayed: true } | { simulated: true }) => void;

/** The output's name as the sidebar shows it: the status, or "other" for a platform's other events. */
function outputName(reading: Reading): string {
  return reading.output === OTHER_OUTPUT ? "other" : (CALLBACK_STATUSES[reading.output] ?? "other");
}

export class ReceiveSidebar implements InDeliveries {
  readonly kind = "in";
  constructor(
    private readonly fullPath: () => string,
    private readonly emit: EmitReading,
    /** What simulate sends for this node's sender. */
    private readonly sample: (status: SimulatedStatus) => Reading,
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
    const reading = this.log.reading(id);
    if (!reading) return { ok: false, reason: "not-replayable" };
    // Dedupe is not asked: a replay is a deliberate second delivery.
    this.emit(reading, { replayed: true });
    this.trace("replayed", reading);
    return { ok: true, executionId: reading.payload.execution_id, output: outputName(reading) };
  }

  simulate(status: SimulatedStatus): { executionId: string } {
    const reading = this.sample(status);
    this.emit(reading, { simulated: true });
    this.trace("simulated", reading);
    return { executionId: reading.payload.execution_id };
  }

  /** A reading the sidebar put into the flow, listed in Last requests with the output it went to. */
  private trace(outcome: "replayed" | "simulated", reading: Reading): void {
    const { payload } = reading;
    this.log.record({
      at: Date.now(),
      client: "",
      outcome,
      executionId: payload.execution_id,
      agentLoopName: payload.agent_loop_name ?? undefined,
      status: payload.status ?? undefined,
      output: outputName(reading),
    });
  }
}
