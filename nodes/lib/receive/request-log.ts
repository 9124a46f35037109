// The latest requests callback in answered, for the deliveries sidebar, and what was read from the
// accepted ones within a byte budget, for "replay". Recording is O(1) and does no JSON work: the
// reading holds the object the request already parsed, and its size is the body's byte length.
// Refused requests are kept apart, a repeat of the last refusal folded into it with a count, so
// that a flood of refusals can never push an accepted callback out of the list.
import { Ring } from "../shared/ring";
import type { IncomingHttpHeaders } from "node:http";
import { HourCounter } from "../shared/hour-counter";
import type { RequestCounts, RequestDetail, RequestRecord, RequestView } from "../shared/views";
import type { Reading } from "./sources/source";

/** Header names whose values carry a secret everywhere (the node adds its own secret header). */
const ALWAYS_HIDDEN = ["authorization", "proxy-authorization", "cookie", "x-signature", "webhook-signature"];
/** Characters of a body shown when a request is opened. */
export const SHOWN_BODY_CHARS = 4096;

/** Outcomes that are not refusals. */
const KEPT_OUTCOMES: ReadonlySet<string> = new Set(["accepted", "duplicate", "simulated", "replayed"]);

interface Entry extends RequestRecord {
  id: number;
  /** The request's headers as Node.js parsed them (a reference: filtered only when opened). */
  headers?: IncomingHttpHeaders | undefined;
  /** What was read from an accepted request (its payload, and a platform's event), while within the budget. */
  kept: Reading | undefined;
  bytes: number;
  count?: number;
}

export const DEFAULT_KEEP_REQUESTS = 200;
/** Refusal entries kept (each may stand for many refusals alike). */
export const DEFAULT_KEEP_REFUSALS = 50;
export const DEFAULT_PAYLOAD_BUDGET_BYTES = 1024 * 1024;

export class RequestLog {
  private readonly ring: Ring<Entry>;
  private readonly refusals: Ring<Entry>;
  /** The newest refusal entry, which a refusal alike is folded into. */
  private lastRefusal: Entry | undefined;
  /** Entries holding a payload, oldest first (from `head`): the first to let go when over budget. */
  private withPayload: Entry[] = [];
  private head = 0;
  private payloadBytes = 0;
  private nextId = 1;
  private readonly totals: RequestCounts = { accepted: 0, duplicate: 0, refused: 0 };
  /** Accepted (duplicates too) and refused requests per minute of the last hour, for the chart. */
  private readonly acceptedPerMinute = new HourCounter();
  private readonly refusedPerMinute = new HourCounter();

  constructor(
    keep = DEFAULT_KEEP_REQUESTS,
    private readonly budgetBytes = DEFAULT_PAYLOAD_BUDGET_BYTES,
    keepRefusals = DEFAULT_KEEP_REFUSALS,
  ) {
    this.ring = new Ring<Entry>(keep);
    this.refusals = new Ring<Entry>(keepRefusals);
  }

  /** Records a request; `reading` and `bytes` (the body's length) for an accepted one, to replay it later. */
  record(request: RequestRecord, reading?: Reading, bytes = 0, headers?: IncomingHttpHeaders): number {
    // Field by field: on Node.js 20 a literal with a spread and more properties after it costs
    // microseconds per object, which at every request was a tenth of callback in's CPU.
    const entry: Entry = {
      at: request.at,
      client: request.client,
      reply: request.reply,
      outcome: request.outcome,
      executionId: request.executionId,
      agentLoopName: request.agentLoopName,
      status: request.status,
      output: request.output,
      id: this.nextId++,
      kept: undefined,
      bytes: 0,
      headers,
    };
    // Simulated and replayed payloads are listed but are no requests: not counted.
    if (request.outcome === "accepted") this.totals.accepted++;
    else if (request.outcome === "duplicate") this.totals.duplicate++;
    else if (!KEPT_OUTCOMES.has(request.outcome)) {
      this.refusedPerMinute.add();
      return this.refused(entry);
    }
    if (request.outcome === "accepted" || request.outcome === "duplicate") this.acceptedPerMinute.add();
    const dropped = this.ring.push(entry);
    if (dropped) this.dropPayload(dropped);
    if (reading !== undefined && bytes <= this.budgetBytes) {
      entry.kept = reading;
      entry.bytes = bytes;
      this.payloadBytes += bytes;
      this.withPayload.push(entry);
      // Let go of the oldest while over budget, and step past those the ring has already dropped,
      // so that the list holds no more entries than the ring and the budget keep.
      while (this.head < this.withPayload.length) {
        const oldest = this.withPayload[this.head] as Entry;
        if (oldest.kept !== undefined && this.payloadBytes <= this.budgetBytes) break;
        this.dropPayload(oldest);
        this.head++;
      }
      if (this.head > 1024 && this.head * 2 > this.withPayload.length) {
        this.withPayload = this.withPayload.slice(this.head);
        this.head = 0;
      }
    }
    return entry.id;
  }

  /** A refusal: folded into the last one when alike, else a new entry in the refusals' own ring. */
  private refused(entry: Entry): number {
    this.totals.refused++;
    const last = this.lastRefusal;
    if (last && last.outcome === entry.outcome && last.client === entry.client && last.reply === entry.reply) {
      last.count = (last.count ?? 1) + 1;
      last.at = entry.at;
      // A new id: the folded entry is now the newest, and lists sort by id.
      last.id = entry.id;
      return last.id;
    }
    entry.count = 1;
    this.refusals.push(entry);
    this.lastRefusal = entry;
    return entry.id;
  }

  chart(): { accepted: number[]; refused: number[] } {
    return { accepted: this.acceptedPerMinute.perMinute(), refused: this.refusedPerMinute.perMinute() };
  }

  counts(): RequestCounts {
    return { ...this.totals };
  }

  /** Newest first, without payloads: accepted and refused merged by their order of arrival. */
  list(): RequestView[] {
    const merged = [...this.ring.newestFirst(), ...this.refusals.newestFirst()].sort((a, b) => b.id - a.id);
    return merged.map(({ kept, bytes, headers, ...rest }) => {
      void bytes;
      void headers;
      return { ...rest, replayable: kept !== undefined };
    });
  }

  /** Request `id` opened: its headers without any value that carries a secret (`hidden` names the node's own), its kept body. */
  detail(id: number, hidden: readonly string[]): RequestDetail | undefined {
    const entry = [...this.ring.newestFirst(), ...this.refusals.newestFirst()].find((e) => e.id === id);
    if (!entry) return undefined;
    const secret = new Set([...ALWAYS_HIDDEN, ...hidden.map((h) => h.toLowerCase())]);
    const headers: Record<string, string> = {};
    const hiddenNames: string[] = [];
    for (const [name, value] of Object.entries(entry.headers ?? {})) {
      if (value === undefined) continue;
      if (secret.has(name)) hiddenNames.push(name);
      else headers[name] = Array.isArray(value) ? value.join(", ") : value;
    }
    // What arrived: a platform's event as received, else the callback.
    const kept = entry.kept;
    const body = kept === undefined ? "" : JSON.stringify(kept.event ?? kept.payload, null, 2).slice(0, SHOWN_BODY_CHARS);
    return { id, headers, hidden: hiddenNames, body };
  }

  /** What was read from request `id`, if it was accepted and is still within the budget. */
  reading(id: number): Reading | undefined {
    return this.ring.newestFirst().find((entry) => entry.id === id)?.kept;
  }

  /** Whether request `id` is in the log at all. */
  has(id: number): boolean {
    return this.ring.newestFirst().some((entry) => entry.id === id) || this.refusals.newestFirst().some((entry) => entry.id === id);
  }

  /** Entries still listed as holding a payload (at most the ring's size, plus the slack before a compaction). */
  get listedPayloads(): number {
    return this.withPayload.length - this.head;
  }

  private dropPayload(entry: Entry): void {
    if (entry.kept === undefined) return;
    this.payloadBytes -= entry.bytes;
    entry.kept = undefined;
    entry.bytes = 0;
  }
}
