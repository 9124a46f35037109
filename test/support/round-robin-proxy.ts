// A load balancer for the multi-instance tests: an HTTP proxy on 127.0.0.1 that sends each
// request to the next backend in turn, as a round-robin balancer in front of several Node-RED
// instances does. A backend that cannot be reached is answered 502 (the sender retries).
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export class RoundRobinProxy {
  private server: Server | undefined;
  private next = 0;
  /** Requests sent to each backend, by index. */
  readonly forwarded: number[];

  constructor(private readonly backends: Array<() => number>) {
    this.forwarded = backends.map(() => 0);
  }

  get url(): string {
    const address = this.server?.address() as AddressInfo | null;
    return `http://127.0.0.1:${address?.port ?? 0}`;
  }

  start(): Promise<void> {
    this.server = createServer((req, res) => {
      const index = this.next++ % this.backends.length;
      this.forwarded[index] = (this.forwarded[index] ?? 0) + 1;
      const port = (this.backends[index] as () => number)();
      const upstream = request({ host: "127.0.0.1", port, method: req.method, path: req.url, headers: req.headers }, (reply) => {
        res.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(res);
      });
      upstream.on("error", () => {
        if (!res.headersSent) res.writeHead(502, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ error: "Bad Gateway" }));
      });
      req.pipe(upstream);
    });
    return new Promise((resolve) => this.server?.listen(0, "127.0.0.1", () => resolve()));
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.server) return resolve();
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}
