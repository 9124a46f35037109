// A real HTTP receiver on 127.0.0.1 for callback out's tests: records every request and answers
// each one with the next scripted reply (or the default), so retries can be driven exactly.
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface Received {
  /** Request path and query. */
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  json: Record<string, unknown>;
  at: number;
  /** Status the receiver answered with; undefined when it hung up or never answered. */
  answered?: number;
}

/** One scripted answer: status, headers and body; "hang" never answers; "drop" closes the socket. */
export type Reply = { status: number; headers?: Record<string, string>; body?: string } | "hang" | "drop";

export class Receiver {
  readonly requests: Received[] = [];
  private server: Server | undefined;
  private waiters: Array<() => void> = [];
  replies: Reply[] = [];
  defaultReply: Reply = { status: 200, headers: { "Content-Type": "application/json" }, body: '{"received":true}' };
  port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}/agent-results`;
  }

  /** Listens on `port` (0: any free port). */
  async start(port = 0): Promise<this> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => this.handle(req.url ?? "/", req.headers, Buffer.concat(chunks).toString("utf8"), res));
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }

  /** Resolves once `predicate` holds over the requests so far (checked on every request). */
  waitFor(predicate: (requests: Received[]) => boolean, timeoutMs = 20_000, what = "requests"): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        reject(new Error(`timed out waiting for ${what}; got ${this.requests.length}: ${this.requests.map((r) => r.body).join("\n")}`));
      }, timeoutMs);
      const check = (): void => {
        if (predicate(this.requests)) {
          clearTimeout(timer);
          this.waiters = this.waiters.filter((w) => w !== check);
          resolve();
        }
      };
      this.waiters.push(check);
      check();
    });
  }

  count(n: number, timeoutMs?: number): Promise<void> {
    return this.waitFor((requests) => requests.length >= n, timeoutMs, `${n} requests`);
  }

  private handle(requestPath: string, headers: IncomingHttpHeaders, body: string, res: ServerResponse): void {
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(body) as Record<string, unknown>;
    } catch {
      // recorded as is; the test decides whether that is a failure
    }
    const received: Received = { path: requestPath, headers, body, json, at: Date.now() };
    this.requests.push(received);
    const reply = this.replies.shift() ?? this.defaultReply;
    if (reply === "drop") res.socket?.destroy();
    else if (reply !== "hang") {
      received.answered = reply.status;
      res.writeHead(reply.status, reply.headers ?? {});
      res.end(reply.body ?? "");
    }
    for (const waiter of [...this.waiters]) waiter();
  }
}
