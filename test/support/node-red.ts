// Which Node-RED the tests run against, and a real Node-RED in a child process.
//
// NODE_RED_PACKAGE selects the installed copy: "node-red" (4.1.x, the default) or "node-red-5"
// (5.0.x, an npm alias; needs Node.js 22.9+). .ci/run runs the whole suite once with each.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, symlinkSync, writeFileSync, existsSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { modulePath } from "./test-modules";

export const repoRoot = path.resolve(__dirname, "..", "..");
export const nodeRedPackage = process.env.NODE_RED_PACKAGE || "node-red";

/** Path of Node-RED's main module (what node-red-node-test-helper's init() wants). */
export function nodeRedMain(): string {
  return require.resolve(nodeRedPackage, { paths: [repoRoot] });
}

/** Folder of the selected Node-RED package (holds red.js). */
export function nodeRedDir(): string {
  return path.dirname(require.resolve(`${nodeRedPackage}/package.json`, { paths: [repoRoot] }));
}

export function nodeRedVersion(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- resolved at run time from the Node-RED under test (NODE_RED_PACKAGE)
  return (require(path.join(nodeRedDir(), "package.json")) as { version: string }).version;
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface NodeRedProcessOptions {
  /** User directory; a fresh temporary one when not given (kept across restart()). */
  userDir?: string;
  /** flows.json content written before the first start (when the file does not exist yet). */
  flows?: unknown[];
  /** Extra settings merged into the generated settings.js (JSON-serialisable values only). */
  settings?: Record<string, unknown>;
  /** Raw JS appended inside the settings object, for values JSON cannot hold (functions). */
  settingsSource?: string;
  /**
   * How the plugin is made available: "link" (default) symlinks this repo into the user dir's
   * node_modules; "none" expects the caller to have installed it (e.g. from npm pack).
   */
  plugin?: "link" | "none";
  /** The plugin folder "link" points at (default: this repo), e.g. a built checkout of an earlier version. */
  pluginDir?: string;
  /** Environment variables for the child. */
  env?: Record<string, string>;
  /** Extra Node.js flags for the child, before red.js (e.g. --cpu-prof, --expose-gc). */
  nodeArgs?: string[];
  /**
   * Packages to symlink into the user dir's node_modules, so Node-RED loads them as installed nodes
   * (e.g. the third-party nodes the examples use): from .test-modules/ or this repo's node_modules.
   */
  modules?: string[];
  /** A command the child is started under, e.g. ["prlimit", "--fsize=1000000:unlimited", "--"]. */
  launcher?: string[];
}

/** The runtime's log lines start() waits for, in the language of settings.js `lang` (Node-RED logs in it). */
function runtimeWords(lang: string): { started: string; running: string; stopped: string } {
  const runtimeDir = path.dirname(require.resolve("@node-red/runtime/package.json", { paths: [nodeRedDir()] }));
  const file = path.join(runtimeDir, "locales", lang, "runtime.json");
  const english = { started: "Started flows", running: "Server now running", stopped: "Stopped flows" };
  if (lang === "en-US" || !existsSync(file)) return english;
  const catalog = JSON.parse(readFileSync(file, "utf8")) as { server?: Record<string, string>; nodes?: { flows?: Record<string, string> } };
  const quote = (text: string | undefined, fallback: string): string =>
    (text ?? fallback)
      .split(/__\w+__/)[0]
      ?.trim()
      .replace(/[.*+?^${}()|[\]\\]/g, "\\$&") || fallback;
  return {
    started: quote(catalog.nodes?.flows?.["started-flows"], english.started),
    running: quote(catalog.server?.["now-running"], english.running),
    stopped: quote(catalog.nodes?.flows?.["stopped-flows"], english.stopped),
  };
}

/**
 * A real Node-RED, started from its CLI with the editor and admin API at "/" (so the admin body
 * parsers run before node routes, as in production).
 */
export class NodeRedProcess {
  readonly userDir: string;
  port = 0;
  private child: ChildProcess | undefined;
  private output = "";
  /** The command the next start() runs the child under (from the options; change it between restarts). */
  launcher: string[];

  constructor(private readonly options: NodeRedProcessOptions = {}) {
    this.userDir = options.userDir ?? mkdtempSync(path.join(tmpdir(), "nr-user-"));
    this.launcher = options.launcher ?? [];
    mkdirSync(this.userDir, { recursive: true });
    if ((options.plugin ?? "link") === "link") {
      const modules = path.join(this.userDir, "node_modules");
      mkdirSync(modules, { recursive: true });
      const link = path.join(modules, "node-red-contrib-agent-callback");
      if (!existsSync(link)) symlinkSync(options.pluginDir ?? repoRoot, link, "dir");
    }
    for (const name of options.modules ?? []) {
      const modules = path.join(this.userDir, "node_modules");
      mkdirSync(modules, { recursive: true });
      const link = path.join(modules, name);
      if (!existsSync(link)) symlinkSync(modulePath(name), link, "dir");
    }
    const flowsFile = path.join(this.userDir, "flows.json");
    if (options.flows && !existsSync(flowsFile)) writeFileSync(flowsFile, JSON.stringify(options.flows, null, 2));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Process id of the running child (0 when not running), e.g. to read its RSS. */
  get pid(): number {
    return this.child?.pid ?? 0;
  }

  /** Everything the child printed so far (stdout and stderr). */
  get log(): string {
    return this.output;
  }

  async start(): Promise<void> {
    if (!this.port) this.port = await freePort();
    const settings = {
      uiHost: "127.0.0.1",
      uiPort: this.port,
      flowFile: "flows.json",
      credentialSecret: "test-credential-secret",
      telemetry: { enabled: false },
      editorTheme: { tours: false },
      logging: { console: { level: "info", metrics: false, audit: false } },
      ...this.options.settings,
    };
    const settingsPath = path.join(this.userDir, "settings.js");
    const extra = this.options.settingsSource ? `,\n${this.options.settingsSource}` : "";
    writeFileSync(settingsPath, `module.exports = Object.assign(${JSON.stringify(settings, null, 2)}, {${extra.slice(1)}});\n`);
    this.output = "";
    const [command, ...launcherArgs] = [...this.launcher, process.execPath];
    const child = spawn(
      command as string,
      [
        ...launcherArgs,
        ...(this.options.nodeArgs ?? []),
        path.join(nodeRedDir(), "red.js"),
        "--userDir",
        this.userDir,
        "--settings",
        settingsPath,
        "--port",
        String(this.port),
      ],
      { env: { ...process.env, ...this.options.env }, stdio: ["ignore", "pipe", "pipe"] },
    );
    this.child = child;
    child.stdout?.on("data", (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => (this.output += chunk.toString()));
    const lang = typeof this.options.settings?.lang === "string" ? this.options.settings.lang : "en-US";
    const words = runtimeWords(lang);
    await this.waitFor(new RegExp(`${words.started}|${words.running}`), 60_000);
    // Flows start after the server; wait for them so node routes exist.
    await this.waitFor(new RegExp(`${words.started}|No flows found|${words.stopped}`), 60_000);
  }

  /** Resolves when the child's output matches `pattern`; rejects if it exits or time runs out. */
  waitFor(pattern: RegExp, timeoutMs = 30_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const started = Date.now();
      const check = (): void => {
        if (pattern.test(this.output)) return resolve();
        if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) {
          return reject(new Error(`Node-RED exited before ${pattern}:\n${this.output}`));
        }
        if (Date.now() - started > timeoutMs) return reject(new Error(`timed out waiting for ${pattern}:\n${this.output}`));
        setTimeout(check, 50);
      };
      check();
    });
  }

  /** Graceful stop (SIGTERM): nodes' close handlers run. */
  stop(): Promise<void> {
    return this.signal("SIGTERM");
  }

  /** Crash (SIGKILL): nothing gets to run. */
  kill(): Promise<void> {
    return this.signal("SIGKILL");
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Removes the user directory (call after stop()). */
  cleanup(): void {
    rmSync(this.userDir, { recursive: true, force: true });
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
