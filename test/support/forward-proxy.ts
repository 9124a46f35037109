// A forward proxy on 127.0.0.1 for the proxy tests: forwards plain HTTP requests (absolute URI)
// and tunnels CONNECT (for HTTPS), recording what passed through it, Proxy-Authorization included.
import { createServer, request, type IncomingHttpHeaders, type Server } from "node:http";
import { connect, type AddressInfo, type Socket } from "node:net";

export interface Passed {
  method: string;
  /** The absolute URI of a forwarded request, or host:port of a CONNECT. */
  target: string;
  proxyAuthorization?: string;
  /** Headers of a forwarded request (a tunnel's are encrypted, so not known here). */
  headers?: IncomingHttpHeaders;
}

export class ForwardProxy {
  readonly passed: Passed[] = [];
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    const server = createServer((req, res) => {
      const record: Passed = { method: req.method ?? "", target: req.url ?? "", headers: req.headers };
      if (req.headers["proxy-authorization"]) record.proxyAuthorization = req.headers["proxy-authorization"];
      this.passed.push(record);
      const headers = { ...req.headers };
      delete headers["proxy-authorization"];
      delete headers["proxy-connection"];
      const upstream = request(req.url ?? "", { method: req.method, headers }, (reply) => {
        res.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(res);
      });
      upstream.on("error", () => res.writeHead(502).end());
      req.pipe(upstream);
    });
    server.on("connect", (req, client: Socket, head: Buffer) => {
      const record: Passed = { method: "CONNECT", target: req.url ?? "" };
      if (req.headers["proxy-authorization"]) record.proxyAuthorization = req.headers["proxy-authorization"];
      this.passed.push(record);
      const [host, port] = (req.url ?? "").split(":");
      const upstream = connect(Number(port), host ?? "", () => {
        client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        if (head.length > 0) upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      this.sockets.add(upstream).add(client);
      const close = (): void => {
        upstream.destroy();
        client.destroy();
      };
      upstream.on("error", close).on("close", close);
      client.on("error", close).on("close", close);
    });
    server.on("connection", (socket: Socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    const server = this.server;
    if (server) await new Promise((resolve) => server.close(resolve));
  }
}
