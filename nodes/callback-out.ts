// The "callback out" node: wires Node-RED to format (msg -> payload), outbox (durable journal),
// deliver (one attempt), retry-policy (whether and when again) and sign (signatures). What lives
// here is only the wiring: config checks, the scheduler that keeps `concurrency` attempts in
// flight, node status, and the editor's "send test" endpoint.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { createDispatcher, deliverOnce, type DeliveryResult } from "./lib/deliver";
import { formatCallback } from "./lib/format";
import { Outbox, journalFileName, type OutboxEntry } from "./lib/outbox";
import { samplePayload } from "./lib/payload";
import { classify, nextDelayMs, parseSchedule } from "./lib/retry-policy";
import { SIGNATURE_HEADER, signatureHeaderValue, standardWebhooksSignature } from "./lib/sign";

// --- the small part of Node-RED's API this node uses ---------------------------------------

interface NodeMessage {
  _msgid?: string;
  payload?: unknown;
  topic?: unknown;
  url?: unknown;
  error?: unknown;
  started_at?: unknown;
  [key: string]: unknown;
}

interface NodeStatus {
  fill?: "red" | "green" | "yellow" | "blue" | "grey";
  shape?: "ring" | "dot";
  text?: string;
}

interface CallbackOutCredentials {
  secret?: string;
  token?: string;
  signingKey?: string;
}

interface CallbackOutDef {
  id: string;
  type: string;
  name?: string;
  url?: unknown;
  headers?: unknown;
  secretHeader?: unknown;
  signature?: unknown;
  agentLoopId?: unknown;
  agentLoopName?: unknown;
  timeout?: unknown;
  retrySchedule?: unknown;
  retry4xx?: unknown;
  concurrency?: unknown;
  maxQueue?: unknown;
}

interface NodeInstance {
  id: string;
  credentials?: CallbackOutCredentials;
  on(event: "input", handler: (msg: NodeMessage, send: (msgs: Array<NodeMessage | null>) => void, done: (err?: Error) => void) => void): void;
  on(event: "close", handler: (removed: boolean, done: () => void) => void): void;
  send(msgs: Array<NodeMessage | null>): void;
  status(status: NodeStatus): void;
  log(message: string): void;
  warn(message: string): void;
  error(message: string | Error, msg?: NodeMessage): void;
}

interface AdminRequest {
  params: { id?: string };
}
interface AdminResponse {
  status(code: number): AdminResponse;
  json(body: unknown): void;
}
type AdminHandler = (req: AdminRequest, res: AdminResponse, next?: () => void) => void;

interface RedApi {
  nodes: {
    createNode(node: NodeInstance, def: CallbackOutDef): void;
    registerType(
      type: string,
      ctor: (this: NodeInstance, def: CallbackOutDef) => void,
      options?: { credentials?: Record<string, { type: "text" | "password" }> },
    ): void;
    getNode(id: string): unknown;
  };
  settings: { userDir?: string };
  httpAdmin: { post(route: string, ...handlers: AdminHandler[]): void };
  auth: { needsPermission(permission: string): AdminHandler };
  util: { getSetting?(node: NodeInstance, name: string): unknown };
  _(key: string, substitutions?: Record<string, string | number>): string;
}

// --- configuration ---------------------------------------------------------------------------

type SignatureMode = "none" | "hmac-sha256" | "standard-webhooks";
const SIGNATURE_MODES: readonly SignatureMode[] = ["none", "hmac-sha256", "standard-webhooks"];

interface Settings {
  url: string;
  headers: Array<[string, string]>;
  secretHeader: string;
  signature: SignatureMode;
  agentLoopId: string;
  agentLoopName: string;
  timeoutMs: number;
  schedule: number[];
  retry4xx: boolean;
  concurrency: number;
  maxQueue: number;
}

/** RFC 9110 token: what a header name may be. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** setTimeout fires at once for delays past 2^31-1 ms; longer waits re-arm. */
const MAX_TIMER_MS = 2_147_483_647;

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as unknown;
  } catch {
    return undefined;
  }
}

/** The package version, from dist/nodes/ (installed) or nodes/ (run from source by the tests). */
function readVersion(): string {
  for (const up of [["..", ".."], [".."]]) {
    const pkg = readJson(path.join(__dirname, ...up, "package.json"));
    if (pkg && typeof pkg === "object" && "name" in pkg && pkg.name === "node-red-contrib-agent-callback" && "version" in pkg) {
      return String(pkg.version);
    }
  }
  return "unknown";
}

/**
 * The English messages, used when RED._ has no catalog for a key (it then returns the key itself,
 * e.g. under node-red-node-test-helper), so no log line or error ever shows a bare key.
 */
const englishCatalog = readJson(path.join(__dirname, "locales", "en-US", "callback-out.json"));

function english(key: string, substitutions: Record<string, string | number> = {}): string | undefined {
  let value: unknown = englishCatalog;
  for (const part of key.split(".")) {
    value = value && typeof value === "object" ? (value as Record<string, unknown>)[part] : undefined;
  }
  if (typeof value !== "string") return undefined;
  return value.replace(/__([A-Za-z0-9_-]+)__/g, (match, name: string) =>
    name in substitutions ? String(substitutions[name]) : match,
  );
}

const USER_AGENT = `node-red-contrib-agent-callback/${readVersion()}`;

function text(value: unknown, fallback = ""): string {
  return typeof value === "string" ? value : value === undefined || value === null ? fallback : String(value);
}

function validUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}

function clockTime(at: number): string {
  const date = new Date(at);
  const time = date.toTimeString().slice(0, 8);
  return date.toDateString() === new Date().toDateString() ? time : `${date.toDateString().slice(4, 10)} ${time}`;
}

export = function register(RED: RedApi): void {
  const t = (key: string, substitutions?: Record<string, string | number>): string => {
    const full = `agent-callback-out.${key}`;
    const translated = RED._(full, substitutions);
    return translated === full ? (english(full, substitutions) ?? full) : translated;
  };

  /** Reads and checks the node's properties; throws with a message naming the field and the fix. */
  function readSettings(node: NodeInstance, def: CallbackOutDef): Settings {
    const url = text(def.url).trim();
    if (url !== "" && !validUrl(url)) throw new Error(t("errors.bad-url", { url }));

    const envValue = (name: string): string => {
      const fromRed = RED.util.getSetting ? RED.util.getSetting(node, name) : undefined;
      const value = fromRed ?? process.env[name];
      if (value === undefined) {
        node.warn(t("errors.missing-env", { name }));
        return "";
      }
      return String(value);
    };
    const headers: Array<[string, string]> = [];
    const rawHeaders: unknown[] = Array.isArray(def.headers) ? def.headers : [];
    for (const raw of rawHeaders) {
      const item = raw && typeof raw === "object" ? (raw as Record<string, unknown>) : {};
      const name = text(item.name).trim();
      if (name === "") continue;
      if (!HEADER_NAME.test(name)) throw new Error(t("errors.bad-header-name", { name }));
      const value = text(item.value).replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_match, envName: string) => envValue(envName));
      if (/[\r\n\0]/.test(value)) throw new Error(t("errors.bad-header-value", { name }));
      headers.push([name, value]);
    }

    const secretHeader = text(def.secretHeader, "X-Webhook-Secret").trim() || "X-Webhook-Secret";
    if (!HEADER_NAME.test(secretHeader)) throw new Error(t("errors.bad-header-name", { name: secretHeader }));

    const signature = text(def.signature, "none") as SignatureMode;
    if (!SIGNATURE_MODES.includes(signature)) throw new Error(t("errors.bad-signature", { signature }));
    if (signature !== "none" && !node.credentials?.signingKey) throw new Error(t("errors.missing-signing-key", { signature }));

    const number = (value: unknown, fallback: number): number =>
      value === undefined || value === null || value === "" ? fallback : Number(value);
    const timeout = number(def.timeout, 15);
    if (!Number.isFinite(timeout) || timeout <= 0) throw new Error(t("errors.bad-number", { field: "timeout", min: "more than 0" }));
    const concurrency = number(def.concurrency, 8);
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(t("errors.bad-number", { field: "concurrency", min: "a whole number of 1 or more" }));
    const maxQueue = number(def.maxQueue, 10000);
    if (!Number.isInteger(maxQueue) || maxQueue < 1) throw new Error(t("errors.bad-number", { field: "maxQueue", min: "a whole number of 1 or more" }));
    const schedule = parseSchedule(def.retrySchedule);
    if (!schedule.ok) throw new Error(schedule.error);

    return {
      url,
      headers,
      secretHeader,
      signature,
      agentLoopId: text(def.agentLoopId),
      agentLoopName: text(def.agentLoopName),
      timeoutMs: Math.round(timeout * 1000),
      schedule: schedule.schedule,
      retry4xx: def.retry4xx === undefined ? true : def.retry4xx === true || def.retry4xx === "true",
      concurrency,
      maxQueue,
    };
  }

  /** Every header of one attempt. Standard Webhooks signs a fresh timestamp each time, as receivers reject stale ones. */
  function requestHeaders(settings: Settings, credentials: CallbackOutCredentials, executionId: string, body: string): Record<string, string> {
    // Keyed by lower-case name so a configured header replaces a default instead of doubling it.
    const headers = new Map<string, [string, string]>();
    const set = (name: string, value: string): void => void headers.set(name.toLowerCase(), [name, value]);
    set("User-Agent", USER_AGENT);
    for (const [name, value] of settings.headers) set(name, value);
    set("Content-Type", "application/json");
    if (credentials.secret) set(settings.secretHeader, credentials.secret);
    if (credentials.token) set("Authorization", `Bearer ${credentials.token}`);
    const key = credentials.signingKey ?? "";
    if (settings.signature === "hmac-sha256") set(SIGNATURE_HEADER, signatureHeaderValue(key, body));
    if (settings.signature === "standard-webhooks") {
      const timestamp = Math.floor(Date.now() / 1000);
      set("webhook-id", executionId);
      set("webhook-timestamp", String(timestamp));
      set("webhook-signature", standardWebhooksSignature(key, executionId, timestamp, body));
    }
    return Object.fromEntries([...headers.values()]);
  }

  interface HeapItem {
    dueAt: number;
    id: string;
  }

  /** Min-heap on dueAt: the scheduler's next-due lookup stays cheap with 10,000 callbacks queued. */
  class DueHeap {
    private items: HeapItem[] = [];
    get length(): number {
      return this.items.length;
    }
    peek(): HeapItem | undefined {
      return this.items[0];
    }
    push(item: HeapItem): void {
      const items = this.items;
      items.push(item);
      let i = items.length - 1;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        const p = items[parent] as HeapItem;
        if (p.dueAt <= item.dueAt) break;
        items[i] = p;
        i = parent;
      }
      items[i] = item;
    }
    pop(): HeapItem | undefined {
      const items = this.items;
      const top = items[0];
      const last = items.pop();
      if (items.length > 0 && last) {
        let i = 0;
        for (;;) {
          const left = 2 * i + 1;
          if (left >= items.length) break;
          const right = left + 1;
          const child = right < items.length && (items[right] as HeapItem).dueAt < (items[left] as HeapItem).dueAt ? right : left;
          if ((items[child] as HeapItem).dueAt >= last.dueAt) break;
          items[i] = items[child] as HeapItem;
          i = child;
        }
        items[i] = last;
      }
      return top;
    }
  }

  interface TestReply {
    url: string;
    statusCode?: number;
    payload?: unknown;
    error?: string;
  }

  type CallbackOutNode = NodeInstance & { agentCallbackSendTest?: () => Promise<TestReply> };

  function CallbackOutNode(this: CallbackOutNode, def: CallbackOutDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const credentials: CallbackOutCredentials = node.credentials ?? {};
    let settings: Settings | undefined;
    let configError: string | undefined;
    try {
      settings = readSettings(node, def);
    } catch (err) {
      configError = err instanceof Error ? err.message : String(err);
      node.error(configError);
      node.status({ fill: "red", shape: "ring", text: t("status.config-error") });
    }

    const dispatcher = createDispatcher(settings?.concurrency ?? 1);
    const stopAll = new AbortController();
    const heap = new DueHeap();
    const inFlight = new Set<string>();
    /** The input msgs of callbacks queued in this run, given back on the outputs (lost on restart: then a fresh msg). */
    const inputMsgs = new Map<string, NodeMessage>();
    let timer: NodeJS.Timeout | undefined;
    let statusTimer: NodeJS.Timeout | undefined;
    let lastResult: NodeStatus | undefined;
    let closing = false;
    let outbox: Outbox | undefined;
    let openError: string | undefined;

    const userDir = RED.settings.userDir || path.join(homedir(), ".node-red");
    const journal = path.join(userDir, "agent-callback-outbox", journalFileName(node.id));

    const ready: Promise<void> = configError
      ? Promise.resolve()
      : Outbox.open(journal).then(
          ({ outbox: opened, replay }) => {
            if (closing) {
              void opened.close();
              return;
            }
            outbox = opened;
            if (replay.tornTail) node.warn(t("log.torn-tail", { file: journal }));
            if (replay.unreadableLines > 0) node.warn(t("log.unreadable", { count: replay.unreadableLines, file: journal }));
            if (replay.entries > 0) node.log(t("log.resuming", { count: replay.entries, file: journal }));
            for (const entry of opened.entries()) heap.push({ dueAt: entry.dueAt, id: entry.id });
            pump();
            showStatus();
          },
          (err: unknown) => {
            openError = t("errors.outbox-open", { file: journal, error: err instanceof Error ? err.message : String(err) });
            node.error(openError);
            node.status({ fill: "red", shape: "ring", text: t("status.outbox-error") });
          },
        );

    // --- status: what is happening now, at most a few updates a second ---------------------
    function showStatus(): void {
      if (statusTimer || closing) return;
      statusTimer = setTimeout(() => {
        statusTimer = undefined;
        if (!closing) node.status(currentStatus());
      }, 200);
    }

    function currentStatus(): NodeStatus {
      const pending = outbox?.size ?? 0;
      if (pending === 0) return lastResult ?? {};
      const waiting = pending - inFlight.size;
      if (inFlight.size > 0) {
        return { fill: "blue", shape: "dot", text: waiting > 0 ? t("status.sending-queued", { count: waiting }) : t("status.sending") };
      }
      let next: OutboxEntry | undefined;
      for (const entry of outbox?.entries() ?? []) if (!next || entry.dueAt < next.dueAt) next = entry;
      if (next && next.attempts > 0 && settings) {
        const retry = t("status.retry", { k: next.attempts, n: settings.schedule.length, time: clockTime(next.dueAt) });
        return { fill: "yellow", shape: "ring", text: pending > 1 ? `${retry}, ${t("status.queued", { count: pending })}` : retry };
      }
      return { fill: "yellow", shape: "dot", text: t("status.queued", { count: pending }) };
    }

    // --- the scheduler ---------------------------------------------------------------------
    function schedule(entry: OutboxEntry): void {
      heap.push({ dueAt: entry.dueAt, id: entry.id });
      pump();
    }

    /** True when the heap item still describes a pending, idle entry at that time. */
    function current(item: HeapItem): OutboxEntry | undefined {
      const entry = outbox?.get(item.id);
      return entry && entry.dueAt === item.dueAt && !inFlight.has(entry.id) ? entry : undefined;
    }

    function pump(): void {
      if (closing || !settings || !outbox) return;
      const now = Date.now();
      while (inFlight.size < settings.concurrency) {
        const top = heap.peek();
        if (!top) break;
        if (!current(top)) {
          heap.pop();
          continue;
        }
        if (top.dueAt > now) break;
        heap.pop();
        const entry = current(top);
        if (entry) void attempt(entry, settings);
      }
      if (timer) clearTimeout(timer);
      timer = undefined;
      const next = heap.peek();
      if (next && inFlight.size < settings.concurrency) {
        timer = setTimeout(pump, Math.min(Math.max(0, next.dueAt - now), MAX_TIMER_MS));
      }
      showStatus();
    }

    async function attempt(entry: OutboxEntry, config: Settings): Promise<void> {
      inFlight.add(entry.id);
      const attempts = entry.attempts + 1;
      const url = config.url || entry.url || "";
      let result: DeliveryResult;
      try {
        result = await deliverOnce({
          url,
          body: entry.body,
          headers: requestHeaders(config, credentials, entry.executionId, entry.body),
          timeoutMs: config.timeoutMs,
          dispatcher,
          signal: stopAll.signal,
        });
      } catch (err) {
        // deliverOnce reports failures as outcomes; this is for anything unforeseen before the request.
        const error = err instanceof Error ? err.message : String(err);
        result = { outcome: { kind: "network", error }, error };
      } finally {
        inFlight.delete(entry.id);
      }
      // Closing: the entry stays in the journal as it was and is tried again after the restart.
      if (closing || !outbox) return;
      const verdict = classify(result.outcome, config.retry4xx);
      const delay = verdict === "retry" ? nextDelayMs(config.schedule, attempts, result.retryAfterSeconds) : undefined;
      if (verdict === "delivered") {
        finish(entry, result, attempts, 0);
      } else if (delay !== undefined) {
        const dueAt = Date.now() + delay;
        outbox
          .reschedule(entry.id, { attempts, dueAt, lastStatus: result.statusCode, lastError: result.error })
          .catch((err: unknown) => node.error(t("errors.outbox-write", { file: journal, error: String(err) })));
        heap.push({ dueAt, id: entry.id });
      } else {
        finish(entry, result, attempts, 1);
      }
      pump();
    }

    function describe(result: DeliveryResult): string {
      return result.statusCode !== undefined ? `HTTP ${result.statusCode}` : (result.error ?? "no reply");
    }

    function finish(entry: OutboxEntry, result: DeliveryResult, attempts: number, output: 0 | 1): void {
      outbox
        ?.remove(entry.id)
        .catch((err: unknown) => node.error(t("errors.outbox-write", { file: journal, error: String(err) })));
      // A shallow copy: the input msg object may still be held by other nodes (Complete, http response).
      const input = inputMsgs.get(entry.id);
      const msg: NodeMessage = input ? { ...input } : entry.topic !== undefined ? { topic: entry.topic } : {};
      inputMsgs.delete(entry.id);
      msg.payload = result.payload;
      msg.statusCode = result.statusCode;
      msg.headers = result.headers ?? {};
      msg.callback = JSON.parse(entry.body) as unknown;
      msg.attempts = attempts;
      const code = result.statusCode !== undefined ? String(result.statusCode) : t("status.no-reply");
      if (output === 0) {
        delete msg.error;
        lastResult = { fill: "green", shape: "dot", text: t("status.delivered", { code }) };
        node.send([msg, null]);
      } else {
        msg.error = t("errors.gave-up", { id: entry.executionId, attempts, cause: describe(result) });
        lastResult = { fill: "red", shape: "dot", text: t("status.gave-up", { code }) };
        // A callback given up is lost for the receiver: say so even when output 2 is not wired.
        node.warn(String(msg.error));
        node.send([null, msg]);
      }
      showStatus();
    }

    // --- input: format, journal (fsync), then acknowledge ------------------------------------
    node.on("input", (msg, _send, done) => {
      // Whatever goes wrong with one msg (say a circular msg.payload) is that msg's error, never an unhandled rejection.
      const fail = (err: unknown): void => done(err instanceof Error ? err : new Error(String(err)));
      void ready.then(() => {
        const config = settings;
        if (!config) return done(new Error(configError ?? t("status.config-error")));
        if (!outbox || closing) return done(new Error(openError ?? t("errors.closing")));
        if (outbox.size >= config.maxQueue) return done(new Error(t("errors.queue-full", { max: config.maxQueue })));

        let url: string | undefined;
        if (config.url === "") {
          const fromMsg = typeof msg.url === "string" ? msg.url.trim() : "";
          if (fromMsg === "") return done(new Error(t("errors.no-url")));
          if (!validUrl(fromMsg)) return done(new Error(t("errors.bad-msg-url", { url: fromMsg })));
          url = fromMsg;
        }

        const formatted = formatCallback(msg, { agentLoopId: config.agentLoopId, agentLoopName: config.agentLoopName });
        if (!formatted.ok) {
          const hint = formatted.field === "agent_loop_id" ? ` ${t("errors.agent-loop-id-hint")}` : "";
          return done(new Error(`${t("errors.invalid-payload", { error: formatted.error })}${hint}`));
        }
        const now = Date.now();
        const entry: OutboxEntry = {
          id: `${now.toString(36)}-${randomBytes(6).toString("hex")}`,
          executionId: formatted.payload.execution_id,
          body: formatted.body,
          attempts: 0,
          dueAt: now,
          createdAt: now,
        };
        if (url !== undefined) entry.url = url;
        if (typeof msg.topic === "string") entry.topic = msg.topic;
        inputMsgs.set(entry.id, msg);
        showStatus();
        outbox.add(entry).then(
          () => {
            done();
            if (!closing) schedule(entry);
          },
          (err: unknown) => {
            inputMsgs.delete(entry.id);
            done(new Error(t("errors.outbox-write", { file: journal, error: err instanceof Error ? err.message : String(err) })));
          },
        );
        return undefined;
      }).catch((err: unknown) => fail(new Error(t("errors.invalid-payload", { error: err instanceof Error ? err.message : String(err) }))));
    });

    // --- "send test" from the editor: one attempt with the seed's sample, nothing queued ----
    node.agentCallbackSendTest = async (): Promise<TestReply> => {
      if (!settings) throw new Error(configError ?? t("status.config-error"));
      if (settings.url === "") throw new Error(t("errors.test-no-url"));
      const payload = { ...samplePayload(), execution_id: `exec_test_${randomBytes(6).toString("hex")}` };
      const body = JSON.stringify(payload);
      const result = await deliverOnce({
        url: settings.url,
        body,
        headers: requestHeaders(settings, credentials, payload.execution_id, body),
        timeoutMs: settings.timeoutMs,
        dispatcher,
        signal: stopAll.signal,
      });
      const reply: TestReply = { url: settings.url };
      if (result.statusCode !== undefined) reply.statusCode = result.statusCode;
      if (result.payload !== undefined) reply.payload = result.payload;
      if (result.error !== undefined) reply.error = result.error;
      return reply;
    };

    // --- close: stop timers and attempts, keep the journal ----------------------------------
    node.on("close", (removed, done) => {
      closing = true;
      if (timer) clearTimeout(timer);
      if (statusTimer) clearTimeout(statusTimer);
      stopAll.abort();
      void (async () => {
        try {
          await ready;
          const pending = outbox?.size ?? 0;
          await outbox?.close();
          await dispatcher.destroy().catch(() => undefined);
          if (pending > 0) {
            if (removed) node.warn(t("log.kept-removed", { count: pending, file: journal, id: node.id }));
            else node.log(t("log.kept", { count: pending, file: journal }));
          }
        } catch (err) {
          node.error(t("errors.outbox-write", { file: journal, error: err instanceof Error ? err.message : String(err) }));
        } finally {
          done();
        }
      })();
    });
  }

  RED.nodes.registerType("agent-callback-out", CallbackOutNode, {
    credentials: { secret: { type: "password" }, token: { type: "password" }, signingKey: { type: "password" } },
  });

  RED.httpAdmin.post("/agent-callback-out/:id/test", RED.auth.needsPermission("agent-callback-out.write"), (req, res) => {
    const found = RED.nodes.getNode(req.params.id ?? "") as CallbackOutNode | null;
    if (!found || typeof found.agentCallbackSendTest !== "function") {
      res.status(404).json({ error: t("errors.test-not-deployed") });
      return;
    }
    found.agentCallbackSendTest().then(
      (reply) => res.status(200).json(reply),
      (err: unknown) => res.status(400).json({ error: err instanceof Error ? err.message : String(err) }),
    );
  });
};
