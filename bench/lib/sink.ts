// The bench's side of bench/servers/sink.js: starts the sink in its own process (on a core of its
// own when given one) and waits there for a number of accepted callbacks, so that no sender variant
// shares a process or a core with its receiver.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";

export interface SinkStats {
  accepted: number;
  duplicates: number;
  /** Date.now() in the sink when it accepted its latest new execution_id (same clock as the bench's). */
  lastAcceptedAt: number;
}

export class SinkProcess {
  private readonly waiters = new Map<number, { resolve: (stats: SinkStats) => void; reject: (err: Error) => void }>();
  private lines = "";

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {
    child.stdout?.on("data", (chunk: Buffer) => this.read(chunk));
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  /** `core`: taskset's core list to run the sink on (all the bench's cores when not given). */
  static start(core?: string): Promise<SinkProcess> {
    const node = [process.execPath, path.join(__dirname, "..", "servers", "sink.js")];
    const [command = "", ...args] = core === undefined ? node : ["taskset", "-c", core, ...node];
    const child = spawn(command, args, { stdio: ["pipe", "pipe", "inherit"] });
    return new Promise((resolve, reject) => {
      let out = "";
      const onData = (chunk: Buffer): void => {
        out += chunk.toString();
        const match = /READY (\d+)\n/.exec(out);
        if (!match) return;
        child.stdout?.off("data", onData);
        child.off("exit", onExit);
        resolve(new SinkProcess(child, `http://127.0.0.1:${match[1] ?? ""}`));
      };
      const onExit = (code: number | null): void => reject(new Error(`sink exited (${code}) before it was ready: ${out}`));
      child.stdout?.on("data", onData);
      child.once("exit", onExit);
    });
  }

  /** Resolves with the sink's stats once `count` distinct execution_ids were accepted. */
  waitForAccepted(count: number, timeoutMs: number): Promise<SinkStats> {
    return new Promise((resolve, reject) => {
      this.waiters.set(count, { resolve, reject });
      this.child.stdin?.write(`wait ${count} ${timeoutMs}\n`);
    });
  }

  stop(): Promise<void> {
    return new Promise((done) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) return done();
      this.child.once("exit", () => done());
      this.child.stdin?.end();
    });
  }

  private read(chunk: Buffer): void {
    this.lines += chunk.toString();
    for (let nl = this.lines.indexOf("\n"); nl >= 0; nl = this.lines.indexOf("\n")) {
      const line = this.lines.slice(0, nl);
      this.lines = this.lines.slice(nl + 1);
      const match = /^(REACHED|TIMEOUT) (\d+) (.*)$/.exec(line);
      const waiter = match ? this.waiters.get(Number(match[2])) : undefined;
      if (!match || !waiter) continue;
      this.waiters.delete(Number(match[2]));
      if (match[1] === "REACHED") waiter.resolve(JSON.parse(match[3] ?? "{}") as SinkStats);
      else waiter.reject(new Error(match[3] ?? "timed out"));
    }
  }
}
