// The "callback out" node: wires Node-RED to callback-out-settings (properties), format
// (msg -> payload), outbox (durable journal), delivery-queue (when each attempt runs, retry or
// give up), request-headers (credentials, signatures) and deliver (one attempt). What lives here
// is only the wiring: node status, the outputs, the log, and the editor's "send test" endpoint.
import { homedir } from "node:os";
import path from "node:path";
import { isHttpUrl, readSettings, type CallbackOutConfig, type CallbackOutSettings } from "./lib/send/settings";
import { createDispatcher, deliverOnce, type DeliveryResult } from "./lib/send/deliver";
import { DeliveryQueue, type Finish } from "./lib/send/delivery-queue";
import { formatCallback } from "./lib/send/format";
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeStatus } from "./lib/shared/node-red-types";
import { nonNegativeNumber } from "./lib/shared/config-values";
import { readJsonFile } from "./lib/shared/json-file";
import { messagesFor } from "./lib/shared/messages";
import { Outbox, journalFileName, type OutboxEntry, type QueuedEntry } from "./lib/outbox/outbox";
import { samplePayload } from "./lib/shared/payload";
import { randomHex } from "./lib/shared/random-hex";
import { requestHeaders, type CallbackCredentials, type HeaderSettings } from "./lib/send/request-headers";

interface CallbackOutDef extends NodeDef, CallbackOutConfig {}

/** The package version, from dist/nodes/ (installed) or nodes/ (run from source by the tests). */
function readVersion(): string {
  for (const up of [["..", ".."], [".."]]) {
    const pkg = readJsonFile(path.join(__dirname, ...up, "package.json"));
    if (pkg && typeof pkg === "object" && "name" in pkg && pkg.name === "node-red-contrib-agent-callback" && "version" in pkg) {
      return String(pkg.version);
    }
  }
  return "unknown";
}

/** MB of queued bodies a node keeps in memory by default (settings.js: agentCallbackOutBodyMemoryMB). */
const DEFAULT_BODY_MEMORY_MB = 8;

const USER_AGENT = `node-red-contrib-agent-callback/${readVersion()}`;

/**
 * A shallow copy of `msg` without `payload` and `error`. Copied key by key rather than spread and
 * deleted: `delete` turns an object into a hash table, several times larger, and 100,000 of these
 * wait in memory during an outage.
 */
function withoutPayload(msg: NodeMessage): NodeMessage {
  const kept: NodeMessage = {};
  for (const key of Object.keys(msg)) {
    if (key !== "payload" && key !== "error") kept[key] = msg[key];
  }
  return kept;
}

function clockTime(at: number): string {
  const date = new Date(at);
  const time = date.toTimeString().slice(0, 8);
  return date.toDateString() === new Date().toDateString() ? time : `${date.toDateString().slice(4, 10)} ${time}`;
}

export = function register(RED: NodeAPI): void {
  const t = messagesFor((key, substitutions) => RED._(key, substitutions), "agent-callback-out", "callback-out");

  interface TestReply {
    url: string;
    statusCode?: number;
    payload?: unknown;
    error?: string;
  }

  /** settings.js `agentCallbackOutBodyMemoryMB`, in bytes; a value that is not a number >= 0 falls back to the default, with a warning. */
  let warnedBodyMemory = false;
  function bodyMemoryBytes(): number {
    const value = RED.settings.agentCallbackOutBodyMemoryMB;
    const mb = nonNegativeNumber(value, DEFAULT_BODY_MEMORY_MB);
    if (mb !== undefined) return Math.floor(mb * 1024 * 1024);
    if (!warnedBodyMemory) {
      warnedBodyMemory = true;
      RED.log.warn(t("errors.bad-body-memory", { value: String(value), fallback: DEFAULT_BODY_MEMORY_MB }));
    }
    return DEFAULT_BODY_MEMORY_MB * 1024 * 1024;
  }

  type CallbackOutNode = Node<CallbackCredentials> & { agentCallbackSendTest?: () => Promise<TestReply> };

  function CallbackOutNode(this: CallbackOutNode, def: CallbackOutDef): void {
    RED.nodes.createNode(this, def);
    const node = this; // eslint-disable-line @typescript-eslint/no-this-alias -- the closures below need the node; goes when the node file is thinned (issue 10)
    const credentials: CallbackCredentials = node.credentials ?? {};
    /** ${NAME} in a header value: the flow's or the process's environment, as Node-RED resolves it. */
    const env = (name: string): string => {
      const fromRed = RED.util.getSetting ? RED.util.getSetting(node, name) : undefined;
      const value = fromRed ?? process.env[name];
      if (value === undefined) {
        node.warn(t("errors.missing-env", { name }));
        return "";
      }
      return String(value);
    };
    let settings: CallbackOutSettings | undefined;
    let headerSettings: HeaderSettings | undefined;
    let configError: string | undefined;
    try {
      settings = readSettings(def, { hasSigningKey: Boolean(credentials.signingKey), signingKey: credentials.signingKey, env, message: t });
      headerSettings = { ...settings, userAgent: USER_AGENT };
    } catch (err) {
      configError = err instanceof Error ? err.message : String(err);
      node.error(configError);
      node.status({ fill: "red", shape: "ring", text: t("status.config-error") });
    }

    /** Translated once: the text of a gave-up status with no reply. */
    const noReply = t("status.no-reply");
    const dispatcher = createDispatcher(settings?.concurrency ?? 1);
    const stopAll = new AbortController();
    /**
     * The input msgs of callbacks queued in this run, given back on the outputs (lost on restart: then
     * a fresh msg). Kept without `payload` and `error`: the outputs replace both, and the payload is
     * most of a msg's memory while it waits (it is in the outbox entry's body already).
     */
    const inputMsgs = new Map<string, NodeMessage>();
    /** Bodies of the attempts in flight (at most `concurrency`), for the output msg's `callback`. */
    const bodiesInFlight = new Map<string, string>();
    let statusTimer: NodeJS.Timeout | undefined;
    /** The last delivery's outcome; its status text is made when the status is shown, not per delivery. */
    let lastFinish: { finish: Finish; code: string } | undefined;
    let closing = false;
    let outbox: Outbox | undefined;
    let queue: DeliveryQueue | undefined;
    let openError: string | undefined;

    const userDir = RED.settings.userDir || path.join(homedir(), ".node-red");
    const journal = path.join(userDir, "agent-callback-outbox", journalFileName(node.id));
    const journalError = (err: unknown): void => node.error(t("errors.outbox-write", { file: journal, error: String(err) }));

    const ready: Promise<void> =
      configError || !settings || !headerSettings
        ? Promise.resolve()
        : Outbox.open(journal, { bodyMemoryBytes: bodyMemoryBytes() }).then(
            ({ outbox: opened, replay }) => {
              if (closing) {
                void opened.close();
                return;
              }
              outbox = opened;
              if (replay.tornTail) node.warn(t("log.torn-tail", { file: journal }));
              if (replay.unreadableLines > 0) node.warn(t("log.unreadable", { count: replay.unreadableLines, file: journal }));
              if (replay.entries > 0) node.log(t("log.resuming", { count: replay.entries, file: journal }));
              queue = startQueue(opened, settings, headerSettings);
              queue.scheduleAll(opened.entries().map(({ id, dueAt, attempts }) => ({ id, dueAt, attempts })));
              showStatus();
            },
            (err: unknown) => {
              openError = t("errors.outbox-open", { file: journal, error: err instanceof Error ? err.message : String(err) });
              node.error(openError);
              node.status({ fill: "red", shape: "ring", text: t("status.outbox-error") });
            },
          );

    // --- status: what is happening now, at most four updates a second ----------------------
    // Every change only marks the status stale; the timer shows the state as it is when it fires,
    // so the last state (say "delivered 200" after a burst) is always the one left on the node.
    function showStatus(): void {
      if (statusTimer || closing) return;
      statusTimer = setTimeout(() => {
        statusTimer = undefined;
        if (!closing) node.status(currentStatus());
      }, 250);
    }

    function currentStatus(): NodeStatus {
      const pending = outbox?.size ?? 0;
      if (pending === 0) {
        if (!lastFinish) return {};
        const { finish, code } = lastFinish;
        return finish === "delivered"
          ? { fill: "green", shape: "dot", text: t("status.delivered", { code }) }
          : { fill: "red", shape: "dot", text: t("status.gave-up", { code }) };
      }
      const inFlight = queue?.inFlight ?? 0;
      const waiting = pending - inFlight;
      if (inFlight > 0) {
        return { fill: "blue", shape: "dot", text: waiting > 0 ? t("status.sending-queued", { count: waiting }) : t("status.sending") };
      }
      // The queue's due-time heap knows the next attempt: no scan over the outbox.
      const next = queue?.nextDue();
      if (next && next.attempts > 0 && settings) {
        const retry = t("status.retry", { k: next.attempts, n: settings.schedule.length, time: clockTime(next.dueAt) });
        return { fill: "yellow", shape: "ring", text: pending > 1 ? `${retry}, ${t("status.queued", { count: pending })}` : retry };
      }
      return { fill: "yellow", shape: "dot", text: t("status.queued", { count: pending }) };
    }

    // --- delivery: the queue decides when; the outbox keeps each decision on disk -----------
    function startQueue(journaled: Outbox, config: CallbackOutSettings, headerConfig: HeaderSettings): DeliveryQueue {
      return new DeliveryQueue({
        concurrency: config.concurrency,
        schedule: config.schedule,
        retry4xx: config.retry4xx,
        // The body may be on disk only (a long queue): read back for each attempt, kept while it runs.
        attempt: (id) =>
          journaled.body(id).then((body) => {
            const entry = journaled.peek(id);
            if (!entry) throw new Error(`callback ${id} is no longer in the outbox`);
            bodiesInFlight.set(id, body);
            return deliverOnce({
              url: config.url || entry.url || "",
              body,
              headers: requestHeaders(headerConfig, credentials, { executionId: entry.executionId, body }),
              timeoutMs: config.timeoutMs,
              dispatcher,
              signal: stopAll.signal,
            });
          }),
        onRetry: (id, attempts, dueAt, result) => {
          bodiesInFlight.delete(id);
          journaled.reschedule(id, { attempts, dueAt, lastStatus: result.statusCode, lastError: result.error }).catch(journalError);
        },
        onFinish: (id, attempts, result, finish) => {
          const entry = journaled.peek(id);
          const body = bodiesInFlight.get(id);
          bodiesInFlight.delete(id);
          if (entry) finishCallback(journaled, entry, body, result, attempts, finish);
        },
        onChange: showStatus,
      });
    }

    function describe(result: DeliveryResult): string {
      return result.statusCode !== undefined ? `HTTP ${result.statusCode}` : (result.error ?? "no reply");
    }

    function finishCallback(
      journaled: Outbox,
      entry: Readonly<QueuedEntry>,
      body: string | undefined,
      result: DeliveryResult,
      attempts: number,
      finish: Finish,
    ): void {
      journaled.remove(entry.id).catch(journalError);
      const code = result.statusCode !== undefined ? String(result.statusCode) : noReply;
      lastFinish = { finish, code };
      showStatus();
      // Nothing wired to "delivered": no msg to build (parsing the body back is most of the cost).
      if (finish === "delivered" && !isWired(0)) {
        inputMsgs.delete(entry.id);
        return;
      }
      const input = inputMsgs.get(entry.id);
      const msg: NodeMessage = input ?? (entry.topic !== undefined ? { topic: entry.topic } : {});
      inputMsgs.delete(entry.id);
      msg.payload = result.payload;
      msg.statusCode = result.statusCode;
      msg.headers = result.headers ?? {};
      // No body only when it could not be read back from the journal (then the attempt's error says why).
      msg.callback = body !== undefined ? (JSON.parse(body) as unknown) : undefined;
      msg.attempts = attempts;
      if (finish === "delivered") {
        node.send([msg, null]);
      } else {
        msg.error = t("errors.gave-up", { id: entry.executionId, attempts, cause: describe(result) });
        // A callback given up is lost for the receiver: say so even when output 2 is not wired.
        node.warn(String(msg.error));
        node.send([null, msg]);
      }
    }

    /** Whether anything is wired to output `index` (Node-RED keeps the wires on the node). */
    function isWired(index: number): boolean {
      const wires = node.wires;
      return wires === undefined || (wires[index]?.length ?? 0) > 0;
    }

    // --- input: format, journal (fsync), then acknowledge ------------------------------------
    node.on("input", (msg, _send, done) => {
      // Whatever goes wrong with one msg (say a circular msg.payload) is that msg's error, never an unhandled rejection.
      const fail = (err: unknown): void => done(err instanceof Error ? err : new Error(String(err)));
      void ready
        .then(() => {
          const config = settings;
          if (!config) return done(new Error(configError ?? t("status.config-error")));
          if (!outbox || closing) return done(new Error(openError ?? t("errors.closing")));
          if (outbox.size >= config.maxQueue) return done(new Error(t("errors.queue-full", { max: config.maxQueue })));

          let url: string | undefined;
          if (config.url === "") {
            const fromMsg = typeof msg.url === "string" ? msg.url.trim() : "";
            if (fromMsg === "") return done(new Error(t("errors.no-url")));
            if (!isHttpUrl(fromMsg)) return done(new Error(t("errors.bad-msg-url", { url: fromMsg })));
            url = fromMsg;
          }

          const formatted = formatCallback(msg, { agentLoopId: config.agentLoopId, agentLoopName: config.agentLoopName });
          if (!formatted.ok) {
            const hint = formatted.field === "agent_loop_id" ? ` ${t("errors.agent-loop-id-hint")}` : "";
            return done(new Error(`${t("errors.invalid-payload", { error: formatted.error })}${hint}`));
          }
          const now = Date.now();
          const entry: OutboxEntry = {
            id: `${now.toString(36)}-${randomHex(6)}`,
            executionId: formatted.payload.execution_id,
            body: formatted.body,
            attempts: 0,
            dueAt: now,
            createdAt: now,
          };
          if (url !== undefined) entry.url = url;
          if (typeof msg.topic === "string") entry.topic = msg.topic;
          // A shallow copy taken now (the input msg object may still be held by other nodes, e.g.
          // Complete or http response), without the two properties every output msg replaces.
          inputMsgs.set(entry.id, withoutPayload(msg));
          showStatus();
          outbox.add(entry).then(
            () => {
              done();
              if (!closing) queue?.schedule({ id: entry.id, dueAt: entry.dueAt, attempts: entry.attempts });
            },
            (err: unknown) => {
              inputMsgs.delete(entry.id);
              done(new Error(t("errors.outbox-write", { file: journal, error: err instanceof Error ? err.message : String(err) })));
            },
          );
          return undefined;
        })
        .catch((err: unknown) => fail(new Error(t("errors.invalid-payload", { error: err instanceof Error ? err.message : String(err) }))));
    });

    // --- "send test" from the editor: one attempt with the seed's sample, nothing queued ----
    node.agentCallbackSendTest = async (): Promise<TestReply> => {
      if (!settings || !headerSettings) throw new Error(configError ?? t("status.config-error"));
      if (settings.url === "") throw new Error(t("errors.test-no-url"));
      const payload = { ...samplePayload(), execution_id: `exec_test_${randomHex(6)}` };
      const body = JSON.stringify(payload);
      const result = await deliverOnce({
        url: settings.url,
        body,
        headers: requestHeaders(headerSettings, credentials, { executionId: payload.execution_id, body }),
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
      queue?.stop();
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
    // settings.js: how many MB of queued bodies each node keeps in memory; past that, bodies are
    // read back from the outbox on disk when their turn comes (0: always from disk).
    settings: { agentCallbackOutBodyMemoryMB: { value: DEFAULT_BODY_MEMORY_MB, exportable: false } },
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
