// "callback in": receives agent-loop callbacks on a POST endpoint, checks them in order of cost
// (rate limit, content type, size, authentication over the raw bytes, JSON + schema, duplicates),
// answers, then routes each accepted payload by status to one of three outputs.
// This file only wires Node-RED to the lib modules.
import type { Request, Response } from "express";
import type { Node, NodeAPI, NodeDef, NodeMessage } from "./lib/shared/node-red-types";
import { CALLBACK_STATUSES, checkCallbackPayload } from "./lib/shared/payload";
import { isVerifyMode, verifyRequest, type VerifyFailure, type VerifyMode } from "./lib/receive/verify";
import { splitSecrets } from "./lib/shared/sign";
import { addRawPostRoute, readRawBody, replyJson, replyJsonText, type RawRoute } from "./lib/receive/route";
import { nonNegativeNumber } from "./lib/shared/config-values";
import { DedupeMemory } from "./lib/receive/dedupe";
import { isJsonMediaType } from "./lib/shared/json-media-type";
import { messagesFor } from "./lib/shared/messages";
import { TokenBucket } from "./lib/receive/rate-limit";
import { listenSettings, openOwnPort, type OwnPortHandle, type TlsConfigNode } from "./lib/receive/listen";
import { lendExpress } from "./lib/receive/express-bridge";
import type { IncomingMessage, ServerResponse } from "node:http";

interface CallbackInDef extends NodeDef {
  url?: string;
  verify?: string;
  secretHeader?: string;
  tolerance?: number | string;
  dedupe?: boolean | string;
  dedupeTtl?: number | string;
  rateLimit?: number | string;
  maxBody?: number | string;
  respond?: string;
  listen?: string;
  port?: number | string;
  host?: string;
  tls?: string;
}

type Credentials = { secret?: string };

/** Why a request was refused: the reply's status and the key of the message logged once. */
type RejectCause =
  VerifyFailure | "rate-limited" | "unsupported-media-type" | "too-large" | "aborted" | "consumed" | "invalid-json" | "invalid-payload";

// Replies are part of the HTTP contract with senders, so they are fixed English, not localised.
const UNAUTHORIZED = { error: "Unauthorized" };
/** The two replies of nearly every request, serialised once. */
const RECEIVED = JSON.stringify({ received: true });
const RECEIVED_DUPLICATE = JSON.stringify({ received: true, duplicate: true });
const REPLIES = {
  rateLimited: (seconds: number) => `Too many requests: retry after ${seconds} s`,
  unsupportedMediaType: "Content-Type must be application/json",
  tooLarge: (kib: number) => `Body too large: at most ${kib} KiB`,
  aborted: "Request body was incomplete",
  consumed: "Request body was consumed before it could be verified",
  invalidJson: (detail: string) => `(body): expected JSON: ${detail}`,
};

/** Response wrapper as core `http in` builds it: `http response` answers through `_res`. */
function responseWrapper(res: Response): Record<string, unknown> {
  const wrapper: Record<string, unknown> = { _res: res };
  const methods = [
    "append",
    "attachment",
    "cookie",
    "clearCookie",
    "download",
    "end",
    "format",
    "get",
    "json",
    "jsonp",
    "links",
    "location",
    "redirect",
    "render",
    "send",
    "sendfile",
    "sendFile",
    "sendStatus",
    "set",
    "status",
    "type",
    "vary",
  ];
  const target = res as unknown as Record<string, unknown>;
  for (const name of methods) {
    wrapper[name] = (...args: unknown[]): unknown => {
      const fn = target[name];
      if (typeof fn !== "function") return undefined;
      const result: unknown = fn.apply(res, args);
      return result === res ? wrapper : result;
    };
  }
  return wrapper;
}

export = function (RED: NodeAPI): void {
  /** Dedupe memories of nodes stopped by a deploy that did not remove them, by node id, until they start again. */
  const keptDedupe = new Map<string, DedupeMemory>();
  const t = messagesFor((key, substitutions) => RED._(key, substitutions), "agent-callback-in", "callback-in");
  function CallbackInNode(this: Node<Credentials>, def: CallbackInDef): void {
    RED.nodes.createNode(this, def);
    const node = this; // eslint-disable-line @typescript-eslint/no-this-alias -- the closures below need the node; goes when the node file is thinned (issue 10)

    let url = typeof def.url === "string" && def.url.trim() !== "" ? def.url.trim() : "/agent-results";
    if (!url.startsWith("/")) url = "/" + url;
    const verify: VerifyMode = isVerifyMode(def.verify) ? def.verify : "secret";
    const secretHeader =
      typeof def.secretHeader === "string" && def.secretHeader.trim() !== "" ? def.secretHeader.trim() : "X-Webhook-Secret";
    // A bad number (hand-written or imported flows) falls back to the default, and says so.
    const numberOr = (field: string, value: unknown, fallback: number): number => {
      const n = nonNegativeNumber(value, fallback);
      if (n !== undefined) return n;
      node.warn(t("warn.invalid-number", { field, value: String(value), fallback }));
      return fallback;
    };
    const toleranceSeconds = numberOr("tolerance", def.tolerance, 300);
    const dedupeOn = def.dedupe === undefined ? true : def.dedupe === true || def.dedupe === "true";
    const dedupeTtlSeconds = numberOr("dedupeTtl", def.dedupeTtl, 86400);
    const rateLimit = numberOr("rateLimit", def.rateLimit, 600);
    const maxBodyBytes = Math.max(1, Math.floor(numberOr("maxBody", def.maxBody, 1024) * 1024));
    const respondInFlow = def.respond === "flow";
    const secrets = splitSecrets(node.credentials?.secret);

    // A redeploy (the node stopped, not removed) keeps the ids already seen: a sender's retry of a
    // callback accepted just before the deploy must still be recognised as a duplicate.
    const dedupe = keptDedupe.get(node.id) ?? new DedupeMemory(dedupeTtlSeconds * 1000);
    keptDedupe.delete(node.id);
    dedupe.ttlMs = dedupeTtlSeconds * 1000;
    const bucket = new TokenBucket(rateLimit);
    let accepted = 0;
    let rejected = 0;
    const loggedCauses = new Set<RejectCause>();
    let configProblem: string | undefined;

    // Status shows counts; updates are coalesced so a flood of requests does not flood the editor.
    let statusTimer: NodeJS.Timeout | undefined;
    const showCounts = (): void => {
      statusTimer = undefined;
      if (configProblem) return;
      // Numbers outside the message so that the counts read the same in every language.
      node.status({
        fill: rejected > 0 && accepted === 0 ? "yellow" : "green",
        shape: "dot",
        text: `${accepted} ${t("status.accepted")}, ${rejected} ${t("status.rejected")}`,
      });
    };
    const scheduleStatus = (): void => {
      if (!statusTimer) statusTimer = setTimeout(showCounts, 250);
    };

    const reject = (res: Response, cause: RejectCause, status: number, body: unknown, headers?: Record<string, string>): void => {
      rejected++;
      if (!loggedCauses.has(cause)) {
        loggedCauses.add(cause);
        node.warn(t("warn.rejected", { status, cause: t(`causes.${cause}`) }));
      }
      replyJson(res, status, body, headers);
      scheduleStatus();
    };

    const handle = async (req: Request, res: Response): Promise<void> => {
      const take = bucket.take();
      if (!take.ok) {
        return reject(
          res,
          "rate-limited",
          429,
          { error: REPLIES.rateLimited(take.retryAfterSeconds) },
          {
            "Retry-After": String(take.retryAfterSeconds),
            Connection: "close",
          },
        );
      }
      if (!isJsonMediaType(req.headers["content-type"])) {
        return reject(res, "unsupported-media-type", 415, { error: REPLIES.unsupportedMediaType }, { Connection: "close" });
      }
      const read = await readRawBody(req, maxBodyBytes);
      if (!read.ok) {
        if (read.reason === "too-large") {
          return reject(res, "too-large", 413, { error: REPLIES.tooLarge(maxBodyBytes / 1024) }, { Connection: "close" });
        }
        if (read.reason === "consumed") return reject(res, "consumed", 500, { error: REPLIES.consumed });
        return reject(res, "aborted", 400, { error: REPLIES.aborted });
      }
      const auth = verifyRequest({ mode: verify, secrets, secretHeader, toleranceSeconds }, req.headers, read.body);
      if (!auth.ok) return reject(res, auth.cause, 401, UNAUTHORIZED);

      let value: unknown;
      try {
        value = JSON.parse(read.body.toString("utf8"));
      } catch (err) {
        return reject(res, "invalid-json", 400, { error: REPLIES.invalidJson(err instanceof Error ? err.message : String(err)) });
      }
      const checked = checkCallbackPayload(value);
      if (!checked.ok) return reject(res, "invalid-payload", 400, { error: checked.error });
      const payload = checked.payload;

      if (dedupeOn && dedupe.checkAndRemember(payload.execution_id)) {
        accepted++;
        scheduleStatus();
        return replyJsonText(res, 200, RECEIVED_DUPLICATE);
      }

      accepted++;
      scheduleStatus();
      const msg: NodeMessage = { _msgid: RED.util.generateId(), payload, topic: payload.agent_loop_name ?? "" };
      if (respondInFlow) {
        // Like core http in: headers made enumerable so they show in the debug sidebar.
        Object.defineProperty(req, "headers", { value: req.headers, enumerable: true });
        msg.req = req;
        msg.res = responseWrapper(res);
      } else {
        // Reply first: the sender must not wait for (or be failed by) the flow.
        replyJsonText(res, 200, RECEIVED);
      }
      const index = CALLBACK_STATUSES.indexOf(payload.status);
      const outputs: Array<NodeMessage | null> = CALLBACK_STATUSES.map(() => null);
      outputs[index] = msg;
      node.send(outputs);
    };

    let route: RawRoute | undefined;
    if (verify !== "none" && secrets.length === 0) {
      configProblem = t("errors.no-secret");
      node.error(configProblem);
      node.status({ fill: "red", shape: "ring", text: t("status.no-secret") });
    } else if (verify === "none") {
      node.warn(t("warn.verify-none", { path: url }));
    }
    const listen = listenSettings(def);
    let own: OwnPortHandle | undefined;
    const added: ReturnType<typeof addRawPostRoute> | undefined =
      listen.mode === "port"
        ? undefined
        : addRawPostRoute(RED, {
            url,
            ownerId: node.id,
            handler: (req, res) => {
              handle(req, res).catch((err: unknown) => {
                node.error(t("errors.unexpected", { detail: err instanceof Error ? err.message : String(err) }));
                replyJson(res, 500, { error: "Internal Server Error" });
              });
            },
            onError: (err, _req, res) => {
              node.warn(err instanceof Error ? err.message : String(err));
              replyJson(res, 500, { error: "Internal Server Error" });
            },
          });
    if (listen.mode === "port") {
      if (listen.portProblem) node.warn(t("warn.invalid-number", listen.portProblem));
      own = openOwnPort({
        settings: listen,
        path: url,
        ownerId: node.id,
        tlsConfig: listen.tlsId ? (RED.nodes.getNode(listen.tlsId) as unknown as TlsConfigNode | null) : undefined,
        handler: (req: IncomingMessage, res: ServerResponse) => {
          const express = respondInFlow ? lendExpress(RED.httpNode, req, res) : { req: req as Request, res: res as Response };
          handle(express.req, express.res).catch((err: unknown) => {
            node.error(t("errors.unexpected", { detail: err instanceof Error ? err.message : String(err) }));
            replyJson(express.res, 500, { error: "Internal Server Error" });
          });
        },
        onListening: (endpoint) => {
          if (!configProblem) node.status({ fill: "green", shape: "dot", text: t("status.listening-port", { url: endpoint }) });
        },
        onProblem: (problem) => {
          configProblem = t(problem.error, problem.values);
          node.error(configProblem);
          node.status({ fill: "red", shape: "ring", text: t(problem.status, problem.values) });
        },
      });
    } else if (!added) {
      // unreachable: added is set whenever listen is not "port"
    } else if (added.ok) {
      route = added.route;
      if (!configProblem) node.status({ fill: "green", shape: "dot", text: t("status.listening", { path: added.route.fullPath }) });
    } else if (added.reason === "duplicate") {
      configProblem = t("errors.duplicate-path", { path: added.fullPath });
      node.error(configProblem);
      node.status({ fill: "red", shape: "ring", text: t("status.duplicate") });
    } else {
      configProblem = t("errors.http-disabled");
      node.warn(configProblem);
      node.status({ fill: "grey", shape: "ring", text: t("status.disabled") });
    }

    node.on("close", (removed: boolean, done: () => void) => {
      if (statusTimer) clearTimeout(statusTimer);
      statusTimer = undefined;
      route?.remove();
      if (removed || !dedupeOn) dedupe.clear();
      else keptDedupe.set(node.id, dedupe);
      // The port must be free before the next deploy starts its nodes.
      void (own?.close() ?? Promise.resolve()).then(done, done);
    });
  }

  RED.nodes.registerType("agent-callback-in", CallbackInNode, {
    credentials: { secret: { type: "password" } },
  });
};
