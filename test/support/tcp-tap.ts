// A TCP relay on 127.0.0.1 that records what each client sends before passing it on: to check
// what crosses the wire (a TLS hello, never a plain-text command or password).
import { connect, createServer, type AddressInfo, type Server, type Socket } from "node:net";

/** Bytes kept per connection: enough for a handshake and the first commands. */
const KEEP = 64 * 1024;

export class TcpTap {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  /** What each connection's client sent, in order of connection (the first 64 KiB each). */
  readonly sent: Buffer[] = [];

  constructor(private readonly targetPort: () => number) {}

  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  start(): Promise<void> {
    this.server = createServer((client) => {
      const index = this.sent.push(Buffer.alloc(0)) - 1;
      const upstream = connect(this.targetPort(), "127.0.0.1");
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on("close", () => this.sockets.delete(socket));
        socket.on("error", () => undefined);
      }
      client.on("data", (chunk: Buffer) => {
        const kept = this.sent[index] as Buffer;
        if (kept.length < KEEP) this.sent[index] = Buffer.concat([kept, chunk]).subarray(0, KEEP);
      });
      client.pipe(upstream).pipe(client);
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
    });
    return new Promise((resolve) => this.server?.listen(0, "127.0.0.1", () => resolve()));
  }

  stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
