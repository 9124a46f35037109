// "callback in": receives agent-loop callbacks on a POST endpoint and routes each accepted payload
// by status to one of three outputs. This file only wires Node-RED to lib/receive.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeStatus } from "./lib/shared/node-red-types";
import { CALLBACK_STATUSES } from "./lib/shared/payload";
import { messagesFor } from "./lib/shared/messages";
import { DedupeMemory } from "./lib/receive/dedupe";
import { Receiver, type DedupeCheck, type RateLimit, type ReceiverCounts } from "./lib/receive/receiver";
import { StoreDedupe } from "./lib/receive/store-dedupe";
import { StoreTokenBucket } from "./lib/receive/store-rate-limit";
import { StoreUnavailableError, type StoreConnection } from "./lib/store/connection";
import { findStore, storeId } from "./lib/store/store-node";
import { replyJson } from "./lib/receive/reply";
import { addRawPostRoute, type RawRoute } from "./lib/receive/route";
import { readSettings, type CallbackInConfig, type NumberProblemKey } from "./lib/receive/settings";
import { listenSettings, openOwnPort, type ListenProperties, type OwnPortHandle, type TlsConfigNode } from "./lib/receive/listen";
import { lendExpress } from "./lib/receive/express-bridge";
import { forFlow } from "./lib/receive/flow-response";
import { ReceiveDeliveries } from "./lib/receive/receive-deliveries";
import { DELIVERIES_CHANGED_EVENT, type InDeliveries } from "./lib/shared/deliveries-api";

type Credentials = { secret?: string };

/** Dedupe and rate limit shared through the callback store, or why they cannot be. */
type Shared = { dedupe: DedupeCheck; rateLimit: RateLimit; connection?: StoreConnection; problem?: string };

/** A check that always fails as "store unreachable": requests get 503, nothing is emitted unchecked. */
function unavailable(reason: string): DedupeCheck & RateLimit {
  return {
    checkAndRemember: () => Promise.reject(new StoreUnavailableError(reason)),
    take: () => Promise.reject(new StoreUnavailableError(reason)),
    peek: () => ({ ok: true }),
  };
}

export = function (RED: NodeAPI): void {
  /** msg.req/msg.res on a port of its own: the plain node:http pair made Express's first (lendExpress). */
  const forFlowOnOwnPort = (req: IncomingMessage, res: ServerResponse, hiddenHeaders: readonly string[]): ReturnType<typeof forFlow> => {
    lendExpress(RED.httpNode, req, res);
    return forFlow(req, res, hiddenHeaders);
  };
  /** Dedupe memories of nodes stopped by a deploy that did not remove them, by node id, until they start again. */
  const keptDedupe = new Map<string, DedupeMemory>();
  const t = messagesFor((key, substitutions) => RED._(key, substitutions), "agent-callback-in", "callback-in");

  /** The shared checks of a node whose `store` names a callback store config node. */
  function sharedChecks(nodeId: string, store: string, settings: ReturnType<typeof readSettings>["settings"]): Shared {
    const found = findStore(RED, store);
    if (!found.ok) {
      const problem = t("errors.no-store", { id: store });
      return { dedupe: unavailable(problem), rateLimit: unavailable(problem), problem };
    }
    const connection = found.store.agentCallbackStore();
    return {
      dedupe: new StoreDedupe(connection, connection.key("dedupe", nodeId, ""), settings.dedupeTtlMs),
      rateLimit: new StoreTokenBucket(connection, connection.key("rate", nodeId), settings.rateLimit),
      connection,
    };
  }

  /** For the deliveries sidebar (nodes/plugins/deliveries.ts). */
  type CallbackInNode = Node<Credentials> & { agentCallbackDeliveries?: InDeliveries };
  function CallbackInNode(this: CallbackInNode, def: NodeDef & CallbackInConfig & ListenProperties & { store?: unknown }): void {
    RED.nodes.createNode(this, def);
    const { settings, problems: settingProblems, invalidKeys } = readSettings(def, this.credentials?.secret);
    const listen = listenSettings(def);
    const numberKey: NumberProblemKey = "invalid-number";
    const problems = listen.portProblem ? [...settingProblems, { ...listen.portProblem, key: numberKey }] : settingProblems;
    for (const problem of problems) this.warn(t(`warn.${problem.key}`, problem));
    // A bad number stays visible next to the counts until the node is fixed.
    const numberNote = problems.map((p) => t("status.invalid-number", p)).join(", ");

    // With a store, dedupe and rate limit are shared by every instance running this flow.
    const store = storeId(def.store);
    const shared = store !== undefined ? sharedChecks(this.id, store, settings) : undefined;
    // A redeploy (the node stopped, not removed) keeps the ids already seen: a sender's retry of a
    // callback accepted just before the deploy must still be recognised as a duplicate.
    const dedupe = keptDedupe.get(this.id) ?? new DedupeMemory(settings.dedupeTtlMs);
    keptDedupe.delete(this.id);
    dedupe.ttlMs = settings.dedupeTtlMs;
    /** Why the store cannot be reached now (undefined while it can). */
    let storeDown: string | undefined = shared?.problem;
    if (shared?.problem) this.error(shared.problem);

    let configProblem = false;
    let statusTimer: NodeJS.Timeout | undefined;
    const status = (s: NodeStatus): void =>
      this.status(numberNote ? { fill: "yellow", shape: "ring", text: `${numberNote}; ${s.text}` } : s);
    // Counts are coalesced so that a flood of requests does not flood the editor.
    const showCounts = (): void => {
      statusTimer = undefined;
      // The sidebar plugin coalesces these again across nodes before it tells the editor.
      RED.events?.emit(DELIVERIES_CHANGED_EVENT, this.id);
      const counts: ReceiverCounts = { accepted: receiver.accepted, rejected: receiver.rejected };
      if (configProblem) return;
      if (storeDown !== undefined) return this.status({ fill: "red", shape: "ring", text: t("status.store-down", { error: storeDown }) });
      // Numbers outside the message so that the counts read the same in every language.
      const text = `${counts.accepted} ${t("status.accepted")}, ${counts.rejected} ${t("status.rejected")}`;
      status({ fill: counts.rejected > 0 && counts.accepted === 0 ? "yellow" : "green", shape: "dot", text });
    };

    const sendOn = (output: number, msg: NodeMessage): void => {
      const outputs: Array<NodeMessage | null> = CALLBACK_STATUSES.map(() => null);
      outputs[output] = msg;
      this.send(outputs);
    };
    let fullPath = settings.url;
    // Replayed and simulated payloads: a copy each time, so a flow that changes msg.payload cannot change what is kept.
    const deliveries = new ReceiveDeliveries(
      () => fullPath,
      (payload, extra) => {
        const copy = RED.util.cloneMessage(payload);
        sendOn(CALLBACK_STATUSES.indexOf(copy.status), {
          _msgid: RED.util.generateId(),
          payload: copy,
          topic: copy.agent_loop_name ?? "",
          ...extra,
        });
      },
    );
    this.agentCallbackDeliveries = deliveries;

    const receiver = new Receiver({
      settings,
      dedupe: shared?.dedupe ?? dedupe,
      ...(shared ? { rateLimit: shared.rateLimit } : {}),
      requestLog: deliveries.log,
      // On a port of its own the request is plain node:http; core http response needs Express's methods.
      ...(listen.mode === "port" ? { forFlow: forFlowOnOwnPort } : {}),
      events: {
        onMessage: (output, received) => sendOn(output, { _msgid: RED.util.generateId(), ...received }),
        onCounts: () => {
          if (!statusTimer) statusTimer = setTimeout(showCounts, 250);
        },
        onFirstRejection: (cause, code) => this.warn(t("warn.rejected", { status: code, cause: t(`causes.${cause}`) })),
        onError: (err) => this.error(t("errors.unexpected", { detail: err instanceof Error ? err.message : String(err) })),
        onStoreUnavailable: (err) => {
          if (storeDown === undefined) showStoreDown(err.message);
        },
      },
    });

    // The store's state in the status: down says why (requests are answered 503), back shows the counts.
    const showStoreDown = (error: string): void => {
      const first = storeDown === undefined;
      storeDown = error;
      if (first) this.warn(t("warn.store-down", { error }));
      if (!statusTimer) statusTimer = setTimeout(showCounts, 250);
    };
    const stopWatching = shared?.connection?.onChange((state, error) => {
      if (state === "down") return showStoreDown(error);
      if (state !== "ready" || storeDown === undefined) return;
      storeDown = undefined;
      this.log(t("log.store-back"));
      if (!statusTimer) statusTimer = setTimeout(showCounts, 250);
    });
    if (shared?.connection?.state === "down") showStoreDown(shared.connection.lastError);

    if (invalidKeys > 0) {
      configProblem = true;
      this.error(t("errors.bad-whsec", { count: invalidKeys }));
      this.status({ fill: "red", shape: "ring", text: t("status.bad-whsec") });
    } else if (settings.verify !== "none" && settings.secrets.length === 0) {
      configProblem = true;
      this.error(t("errors.no-secret"));
      this.status({ fill: "red", shape: "ring", text: t("status.no-secret") });
    } else if (settings.verify === "none") {
      this.warn(t("warn.verify-none", { path: settings.url }));
    }

    let route: RawRoute | undefined;
    let own: OwnPortHandle | undefined;
    if (listen.mode === "port") {
      own = openOwnPort({
        settings: listen,
        path: settings.url,
        ownerId: this.id,
        tlsConfig: listen.tlsId ? (RED.nodes.getNode(listen.tlsId) as TlsConfigNode | null) : undefined,
        handler: (req, res) => receiver.handle(req, res),
        t,
        onListening: (url) => {
          fullPath = url;
          if (!configProblem) status({ fill: "green", shape: "dot", text: t("status.listening-port", { url }) });
        },
        onProblem: (problem) => {
          configProblem = true;
          this.error(problem.error);
          this.status({ fill: "red", shape: "ring", text: problem.status });
        },
      });
    }
    const added = own
      ? undefined
      : addRawPostRoute(RED, {
          url: settings.url,
          ownerId: this.id,
          handler: (req, res) => receiver.handle(req, res),
          onError: (err, _req, res) => {
            this.warn(err instanceof Error ? err.message : String(err));
            replyJson(res, 500, { error: "Internal Server Error" });
          },
        });
    if (!added) {
      // On its own port: the status comes once the server listens (or fails to).
    } else if (added.ok) {
      route = added.route;
      fullPath = added.route.fullPath;
      if (!configProblem && storeDown !== undefined) showCounts();
      else if (!configProblem) status({ fill: "green", shape: "dot", text: t("status.listening", { path: added.route.fullPath }) });
    } else if (added.reason === "duplicate") {
      configProblem = true;
      this.error(t("errors.duplicate-path", { path: added.fullPath }));
      this.status({ fill: "red", shape: "ring", text: t("status.duplicate") });
    } else if (added.reason === "admin-clash") {
      configProblem = true;
      this.error(t("errors.admin-clash", { path: added.fullPath, admin: added.adminPath }));
      this.status({ fill: "red", shape: "ring", text: t("status.admin-clash", { admin: added.adminPath }) });
    } else {
      configProblem = true;
      this.warn(t("errors.http-disabled"));
      this.status({ fill: "grey", shape: "ring", text: t("status.disabled") });
    }

    this.on("close", (removed: boolean, done: () => void) => {
      if (statusTimer) clearTimeout(statusTimer);
      statusTimer = undefined;
      stopWatching?.();
      route?.remove();
      if (removed || !settings.dedupe) dedupe.clear();
      else keptDedupe.set(this.id, dedupe);
      // The port must be free before the next deploy starts its nodes.
      void (own?.close() ?? Promise.resolve()).then(done, done);
    });
  }

  RED.nodes.registerType("agent-callback-in", CallbackInNode, {
    credentials: { secret: { type: "password" } },
  });
};
