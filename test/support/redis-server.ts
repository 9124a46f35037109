// A real redis-server for the store tests: started on a free port on 127.0.0.1 with an
// append-only file in a temporary folder, so that a restart keeps what was acknowledged.
// With `tls` it listens for TLS only (no plain-text port), with the given certificate files.
// A machine without redis-server fails these tests with a message saying what to install:
// nothing is skipped silently.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort } from "./node-red";

export function redisServerPath(): string {
  const found = spawnSync("sh", ["-c", "command -v redis-server"], { encoding: "utf8" });
  const file = found.stdout.trim();
  if (found.status !== 0 || file === "") {
    throw new Error("redis-server is not installed: the store tests need it (Debian: apt-get install redis-server; .ci/run installs it)");
  }
  return file;
}

export interface RedisServerOptions {
  /**
   * TLS only: the server's certificate and key and the CA (file paths); with `clientAuth` a client
   * must show a certificate that CA signed (mutual TLS).
   */
  tls?: { cert: string; key: string; ca: string; clientAuth?: boolean; client?: { cert: string; key: string } };
  /** The default user's password (requirepass). */
  password?: string;
}

export class RedisServer {
  port = 0;
  readonly dir = mkdtempSync(path.join(tmpdir(), "redis-test-"));
  private child: ChildProcess | undefined;
  private output = "";

  constructor(private readonly options: RedisServerOptions = {}) {}

  get url(): string {
    return `${this.options.tls ? "rediss" : "redis"}://127.0.0.1:${this.port}`;
  }

  get log(): string {
    return this.output;
  }

  async start(): Promise<void> {
    const file = redisServerPath();
    if (!this.port) this.port = await freePort();
    const args = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "yes", "--dir", this.dir];
    const { tls, password } = this.options;
    if (tls) {
      args.push("--port", "0", "--tls-port", String(this.port), "--tls-cert-file", tls.cert, "--tls-key-file", tls.key);
      args.push("--tls-ca-cert-file", tls.ca, "--tls-auth-clients", tls.clientAuth ? "yes" : "no");
    } else {
      args.push("--port", String(this.port));
    }
    if (password) args.push("--requirepass", password);
    const child = spawn(file, args, { stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    child.stdout?.on("data", (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => (this.output += chunk.toString()));
    await this.waitUntilReachable(child);
  }

  /** Graceful stop (SIGTERM): redis flushes its append-only file. */
  stop(): Promise<void> {
    return this.signal("SIGTERM");
  }

  kill(): Promise<void> {
    return this.signal("SIGKILL");
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async waitUntilReachable(child: ChildProcess): Promise<void> {
    const started = Date.now();
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`redis-server exited:\n${this.output}`);
      if (await this.ping()) return;
      if (Date.now() - started > 20_000) throw new Error(`redis-server did not answer on ${this.port}:\n${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** True when the server answers PING (it may still be loading its file before that). */
  private ping(): Promise<boolean> {
    return new Promise((resolve) => {
      const { tls, password } = this.options;
      const socket: Socket = tls
        ? tlsConnect({
            port: this.port,
            host: "127.0.0.1",
            ca: readFileSync(tls.ca),
            ...(tls.client ? { cert: readFileSync(tls.client.cert), key: readFileSync(tls.client.key) } : {}),
          })
        : connect(this.port, "127.0.0.1");
      // With a password, AUTH first: two replies, the second the PING's.
      const expected = password ? 2 : 1;
      let reply = "";
      socket.on(tls ? "secureConnect" : "connect", () => {
        socket.write(password ? `AUTH ${password}\r\nPING\r\n` : "PING\r\n");
      });
      socket.on("data", (chunk) => {
        reply += chunk.toString();
        const lines = reply.split("\r\n").slice(0, -1);
        if (lines.length >= expected) {
          socket.destroy();
          resolve(lines[expected - 1]?.startsWith("+PONG") ?? false);
        }
      });
      socket.on("error", () => resolve(false));
    });
  }

  private signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      child.once("exit", () => resolve());
      child.kill(signal);
    });
  }
}
