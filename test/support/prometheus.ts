// Prometheus's own tools for the metrics tests: `promtool check metrics` on exposition text, and a
// real Prometheus server on 127.0.0.1 (temp config and storage) that scrapes a Node-RED with a
// bearer token, queried through its HTTP API. Both come from Debian's `prometheus` package.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort } from "./node-red";

export const PROMTOOL = process.env.PROMTOOL ?? "/usr/bin/promtool";
export const PROMETHEUS = process.env.PROMETHEUS ?? "/usr/bin/prometheus";

/** Why the Prometheus tests cannot run here, or undefined when they can. */
export function missingPrometheus(): string | undefined {
  for (const tool of [PROMTOOL, PROMETHEUS]) if (!existsSync(tool)) return `${tool} is not installed (Debian package prometheus)`;
  return undefined;
}

/** `promtool check metrics` on `text`: its exit status and what it said. */
export function promtoolCheck(text: string): { status: number | null; output: string } {
  const run = spawnSync(PROMTOOL, ["check", "metrics"], { input: text, encoding: "utf8", timeout: 30_000 });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

/** One sample of a Prometheus query's vector result. */
export interface Sample {
  metric: Record<string, string>;
  value: number;
}

export class PrometheusServer {
  private child: ChildProcess | undefined;
  private readonly dir = mkdtempSync(path.join(tmpdir(), "prometheus-"));
  port = 0;
  output = "";

  /** Scrapes `target` (host:port) at `metricsPath` every second with `token` as the bearer token. */
  async start(target: string, metricsPath: string, token: string): Promise<void> {
    this.port = await freePort();
    const config = path.join(this.dir, "prometheus.yml");
    // JSON is YAML: no YAML writer needed.
    const scrape = {
      job_name: "node-red",
      scrape_interval: "1s",
      scrape_timeout: "1s",
      metrics_path: metricsPath,
      authorization: { credentials: token },
      static_configs: [{ targets: [target] }],
    };
    writeFileSync(config, JSON.stringify({ global: { scrape_interval: "1s" }, scrape_configs: [scrape] }));
    const child = spawn(
      PROMETHEUS,
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${path.join(this.dir, "data")}`,
        `--web.listen-address=127.0.0.1:${this.port}`,
        "--log.level=warn",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    this.child = child;
    child.stdout?.on("data", (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => (this.output += chunk.toString()));
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`prometheus exited:\n${this.output}`);
      const ready = await fetch(`http://127.0.0.1:${this.port}/-/ready`).then(
        (res) => res.ok,
        () => false,
      );
      if (ready) return;
      if (Date.now() > deadline) throw new Error(`prometheus not ready:\n${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** An instant query through the HTTP API. */
  async query(expression: string): Promise<Sample[]> {
    const res = await fetch(`http://127.0.0.1:${this.port}/api/v1/query?query=${encodeURIComponent(expression)}`);
    const json = (await res.json()) as {
      status: string;
      data?: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
    };
    if (json.status !== "success" || !json.data) throw new Error(`query ${expression}: ${JSON.stringify(json)}`);
    return json.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      });
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The samples of exposition `text`: `name{labels} value` lines, labels parsed. */
export function parseExposition(text: string): Array<{ name: string; labels: Record<string, string>; value: number }> {
  const samples: Array<{ name: string; labels: Record<string, string>; value: number }> = [];
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key as string] = value as string;
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return samples;
}
