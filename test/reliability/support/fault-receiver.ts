// A real HTTP receiver on 127.0.0.1 that keeps an accepted set keyed by execution_id (the
// receiver-side dedupe the seed recommends) and can fail on purpose: 500s, connection resets and
// hangs past the sender's timeout, before or after it has accepted the callback. Faults after
// acceptance are the hard case: the sender must retry and the dedupe must absorb the repeat.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { checkCallbackPayload } from "../../../nodes/lib/shared/payload";
import { constantTimeEqual } from "../../../nodes/lib/shared/sign";
import { seededRandom } from "./payloads";

export type Fault = "500" | "reset" | "hang";

export interface FaultReceiverOptions {
  /** Share of requests that get a fault (0..1). */
  faultRate?: number;
  /** Kinds of fault drawn from, uniformly. */
  faults?: Fault[];
  /** How long a hang lasts before the socket is destroyed (make it longer than the sender's timeout). */
  hangMs?: number;
  /** When set, requests must carry it in `secretHeader` or get 401. */
  secret?: string;
  secretHeader?: string;
  /** Check each body with the shared zod schema (off for the bench sink, where only speed matters). */
  validate?: boolean;
  /** Delay before each request is handled, so that work piles up in the sender. */
  latencyMs?: number;
  /** PRNG seed for reproducible fault sequences. */
  seed?: number;
}

export interface ReceiverStats {
  requests: number;
  accepted: number;
  duplicates: number;
  /** A repeat of an execution_id whose body differs from the first one: a corrupted retry. */
  mismatched: number;
  invalid: number;
  unauthorized: number;
  faults: Record<Fault, number>;
  lastAcceptedAt: number;
}

export class FaultReceiver {
  /** execution_id -> exact body bytes of its first accepted delivery. */
  readonly accepted = new Map<string, string>();
  readonly stats: ReceiverStats = {
    requests: 0,
    accepted: 0,
    duplicates: 0,
    mismatched: 0,
    invalid: 0,
    unauthorized: 0,
    faults: { "500": 0, reset: 0, hang: 0 },
    lastAcceptedAt: 0,
  };
  port = 0;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly random: () => number;
  private readonly waiters: Array<{ count: number; resolve: () => void }> = [];
  private held: Array<() => void> | undefined;

  constructor(private readonly options: FaultReceiverOptions = {}) {
    this.random = seededRandom(options.seed ?? 1);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Listens on `port` (0 = any free one). */
  start(port = 0): Promise<void> {
    const server = createServer((req, res) => this.handle(req, res));
    server.keepAliveTimeout = 30_000;
    server.on("connection", (socket: Socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        const address = server.address();
        this.port = typeof address === "object" && address ? address.port : port;
        resolve();
      });
    });
  }

  /** Stops listening and drops every open connection (the receiver "goes down"). */
  stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return Promise.resolve();
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  /**
   * An unresponsive receiver: requests are read and then held without a reply until resume().
   * With a long sender timeout this keeps only the sender's in-flight slots busy, so everything
   * else waits in its queue, due at once when the receiver comes back.
   */
  hold(): void {
    this.held ??= [];
  }

  /** Answers every held request (normally) and stops holding. */
  resume(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const handle of held) handle();
  }

  /** Resolves once `count` distinct execution_ids have been accepted; rejects after timeoutMs. */
  waitForAccepted(count: number, timeoutMs: number): Promise<void> {
    if (this.accepted.size >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`receiver accepted ${this.accepted.size} of ${count} within ${timeoutMs} ms: ${JSON.stringify(this.stats)}`));
      }, timeoutMs);
      this.waiters.push({ count, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }

  private draw(): { fault: Fault; afterAccept: boolean } | undefined {
    const rate = this.options.faultRate ?? 0;
    const kinds = this.options.faults ?? ["500", "reset", "hang"];
    if (rate <= 0 || kinds.length === 0 || this.random() >= rate) return undefined;
    const fault = kinds[Math.floor(this.random() * kinds.length)] ?? "500";
    // A 500 means "not processed"; resets and hangs may hit before or after processing.
    return { fault, afterAccept: fault !== "500" && this.random() < 0.5 };
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      if (this.held) {
        this.held.push(() => this.process(req, res, chunks));
        return;
      }
      if (this.options.latencyMs) setTimeout(() => this.process(req, res, chunks), this.options.latencyMs);
      else this.process(req, res, chunks);
    });
  }

  private process(req: IncomingMessage, res: ServerResponse, chunks: Buffer[]): void {
    if (res.destroyed) return;
    this.stats.requests++;
    const drawn = this.draw();
    if (drawn && !drawn.afterAccept) return this.fail(drawn.fault, res);
    const header = (this.options.secretHeader ?? "x-webhook-secret").toLowerCase();
    if (this.options.secret !== undefined) {
      const given = req.headers[header];
      if (typeof given !== "string" || !constantTimeEqual(given, this.options.secret)) {
        this.stats.unauthorized++;
        return this.reply(res, 401, '{"error":"Unauthorized"}');
      }
    }
    const body = Buffer.concat(chunks).toString("utf8");
    let id: string | undefined;
    try {
      const parsed: unknown = JSON.parse(body);
      if (this.options.validate ?? true) {
        const check = checkCallbackPayload(parsed);
        if (check.ok) id = check.payload.execution_id;
      } else if (parsed && typeof parsed === "object" && "execution_id" in parsed) {
        const value = (parsed as { execution_id: unknown }).execution_id;
        if (typeof value === "string" && value) id = value;
      }
    } catch {
      id = undefined;
    }
    if (id === undefined) {
      this.stats.invalid++;
      return this.reply(res, 400, '{"error":"invalid payload"}');
    }
    const first = this.accepted.get(id);
    if (first !== undefined) {
      this.stats.duplicates++;
      if (first !== body) this.stats.mismatched++;
    } else {
      this.accepted.set(id, body);
      this.stats.accepted++;
      this.stats.lastAcceptedAt = Date.now();
      this.notify();
    }
    if (drawn) return this.fail(drawn.fault, res);
    this.reply(res, 200, first !== undefined ? '{"received":true,"duplicate":true}' : '{"received":true}');
  }

  private fail(fault: Fault, res: ServerResponse): void {
    this.stats.faults[fault]++;
    if (fault === "500") return this.reply(res, 500, '{"error":"injected failure"}');
    if (fault === "reset") {
      res.socket?.resetAndDestroy?.();
      res.socket?.destroy();
      return;
    }
    const timer = setTimeout(() => res.socket?.destroy(), this.options.hangMs ?? 5_000);
    res.on("close", () => clearTimeout(timer));
  }

  private reply(res: ServerResponse, status: number, body: string): void {
    if (res.destroyed || res.writableEnded) return;
    res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
    res.end(body);
  }

  private notify(): void {
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const waiter = this.waiters[i];
      if (waiter && this.accepted.size >= waiter.count) {
        this.waiters.splice(i, 1);
        waiter.resolve();
      }
    }
  }
}
