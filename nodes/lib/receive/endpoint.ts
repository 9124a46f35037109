// Where callback in's requests come from: a route of Node-RED's HTTP server, or a port of its own
// (listen.ts). Opening either ends in "listening" with the status text to show, or in a problem
// with the message to log and the status to show.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { NodeAPI } from "../shared/node-red-types";
import type { Translate } from "../shared/messages";
import { openOwnPort, type ListenSettings, type TlsConfigNode } from "./listen";
import type { ReceiverStatus } from "./node-status";
import { replyJson } from "./reply";
import { addRawPostRoute, type AddRouteResult } from "./route";

export interface EndpointProblem {
  /** For the log: an error, or a warning when the user turned node routes off. */
  level: "error" | "warn";
  message: string;
  fill: "red" | "grey";
  status: string;
}

export interface EndpointOptions {
  listen: ListenSettings;
  /** Path of the node (starts with "/"). */
  path: string;
  ownerId: string;
  handler(req: IncomingMessage, res: ServerResponse): void;
  t: Translate;
  /** The URL or path it listens on, and the status text that says so. */
  onListening(where: string, status: string): void;
  onProblem(problem: EndpointProblem): void;
  /** An error from httpNodeMiddleware or the route's handler chain (answered 500). */
  onRouteError(err: unknown): void;
}

export interface Endpoint {
  /** Frees the path, and the port when this was the last node on it. */
  close(): Promise<void>;
}

/** The problem of a route that could not be added, as the node reports it. */
function routeProblem(t: Translate, failed: Exclude<AddRouteResult, { ok: true }>): EndpointProblem {
  if (failed.reason === "duplicate") {
    return { level: "error", message: t("errors.duplicate-path", { path: failed.fullPath }), fill: "red", status: t("status.duplicate") };
  }
  if (failed.reason === "admin-clash") {
    const values = { path: failed.fullPath, admin: failed.adminPath };
    return { level: "error", message: t("errors.admin-clash", values), fill: "red", status: t("status.admin-clash", values) };
  }
  return { level: "warn", message: t("errors.http-disabled"), fill: "grey", status: t("status.disabled") };
}

/** Opens the node's endpoint where its `listen` settings say. */
export function openEndpoint(RED: NodeAPI, options: EndpointOptions): Endpoint {
  const { listen, t } = options;
  if (listen.mode === "port") {
    return openOwnPort({
      settings: listen,
      path: options.path,
      ownerId: options.ownerId,
      tlsConfig: listen.tlsId ? (RED.nodes.getNode(listen.tlsId) as TlsConfigNode | null) : undefined,
      handler: options.handler,
      t,
      onListening: (url) => options.onListening(url, t("status.listening-port", { url })),
      onProblem: (problem) => options.onProblem({ level: "error", message: problem.error, fill: "red", status: problem.status }),
    });
  }
  const added = addRawPostRoute(RED, {
    url: options.path,
    ownerId: options.ownerId,
    handler: options.handler,
    onError: (err, _req, res) => {
      options.onRouteError(err);
      replyJson(res, 500, { error: "Internal Server Error" });
    },
  });
  if (!added.ok) {
    options.onProblem(routeProblem(t, added));
    return { close: () => Promise.resolve() };
  }
  options.onListening(added.route.fullPath, t("status.listening", { path: added.route.fullPath }));
  return {
    close: () => {
      added.route.remove();
      return Promise.resolve();
    },
  };
}

/** A node's endpoint: problems go to the node's log and status, "listening" to the status and `listeningAt`. */
export function openNodeEndpoint(
  RED: NodeAPI,
  t: Translate,
  node: { id: string; warn(text: string): void; error(text: string): void },
  where: Pick<EndpointOptions, "listen" | "path" | "handler">,
  status: Pick<ReceiverStatus, "listening" | "problem">,
  listeningAt: (url: string) => void,
): Endpoint {
  return openEndpoint(RED, {
    ...where,
    ownerId: node.id,
    t,
    onListening: (url, text) => {
      listeningAt(url);
      status.listening(text);
    },
    onProblem: (problem) => {
      if (problem.level === "error") node.error(problem.message);
      else node.warn(problem.message);
      status.problem(problem.fill, problem.status);
    },
    onRouteError: (err) => node.warn(err instanceof Error ? err.message : String(err)),
  });
}
