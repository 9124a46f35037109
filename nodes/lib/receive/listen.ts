// Where a callback in's requests come from: Node-RED's own HTTP server (under httpNodeRoot, as
// before) or a server of its own on `host`:`port`, optionally HTTPS with a core tls-config node.
import { numberOrDefault, text, type NumberReading } from "../shared/config-values";
import { acceptsValue } from "../shared/property-rules";
import type { Translate } from "../shared/messages";
import { PROPERTIES } from "./defaults";
import { OwnServers, type OwnHandler, type OwnServerSpec, type OwnTlsOptions } from "./own-server";

export type ListenMode = "node-red" | "port";

/** The four listen properties as they are in the flow JSON. */
export interface ListenProperties {
  listen?: unknown;
  port?: unknown;
  host?: unknown;
  tls?: unknown;
}

export interface ListenSettings {
  mode: ListenMode;
  port: number;
  host: string;
  /** Id of a tls-config node, "" for plain HTTP. */
  tlsId: string;
  /** Set when `port` held a bad value and the default is used (the node warns and shows it). */
  portProblem?: NumberReading["problem"];
}

export function listenSettings(props: ListenProperties): ListenSettings {
  const mode: ListenMode = props.listen === "port" ? "port" : "node-red";
  const port = numberOrDefault("port", props.port, PROPERTIES.port.value, PROPERTIES.port.rule);
  // A host with spaces or slashes cannot be bound: the default, as for numbers, rather than a bind error.
  const host = (acceptsValue(PROPERTIES.host.rule, props.host) ? text(props.host).trim() : "") || PROPERTIES.host.value;
  const tlsId = text(props.tls).trim();
  return { mode, port: port.value, host, tlsId, ...(port.problem ? { portProblem: port.problem } : {}) };
}

/** The part of a core tls-config node used here (@node-red/nodes/core/network/05-tls.js). */
export interface TlsConfigNode {
  valid?: boolean;
  addTLSOptions?(opts: Record<string, unknown>): Record<string, unknown>;
}

export type TlsReading = { ok: true; tls: OwnTlsOptions } | { ok: false; problem: "tls-missing" | "tls-invalid" | "tls-no-cert" };

/**
 * A server's TLS options from a tls-config node. Its CA with "verify" checked means: ask for a client
 * certificate and refuse connections without one signed by that CA (mutual TLS).
 */
export function tlsFromConfig(config: TlsConfigNode | null | undefined): TlsReading {
  if (!config || typeof config.addTLSOptions !== "function") return { ok: false, problem: "tls-missing" };
  if (config.valid === false) return { ok: false, problem: "tls-invalid" };
  const opts = config.addTLSOptions({});
  const pem = (value: unknown): string | Buffer | undefined =>
    Buffer.isBuffer(value) ? value : typeof value === "string" && value.trim() !== "" ? value : undefined;
  const key = pem(opts.key);
  const cert = pem(opts.cert);
  if (!key || !cert) return { ok: false, problem: "tls-no-cert" };
  const ca = pem(opts.ca);
  const passphrase = typeof opts.passphrase === "string" && opts.passphrase !== "" ? opts.passphrase : undefined;
  const requestCert = ca !== undefined && opts.rejectUnauthorized === true;
  return { ok: true, tls: { key, cert, requestCert, ...(ca ? { ca } : {}), ...(passphrase ? { passphrase } : {}) } };
}

/** The spec of the own server for these settings. */
export function serverSpec(settings: ListenSettings, tls: OwnTlsOptions | undefined): OwnServerSpec {
  return { host: settings.host, port: settings.port, tlsId: tls ? settings.tlsId : "", ...(tls ? { tls } : {}) };
}

/** The address a sender uses, for the status and log ("[::1]" for IPv6 literals). */
export function endpointUrl(settings: ListenSettings, secure: boolean, path: string): string {
  const host = settings.host.includes(":") ? `[${settings.host}]` : settings.host;
  return `${secure ? "https" : "http"}://${host}:${settings.port}${path}`;
}

/** Every own server of this Node-RED process (shared by all callback in nodes, whatever flow they are in). */
export const ownServers = new OwnServers();

/** A problem to log and show: the log message and the shorter status text, both translated. */
export interface ListenProblem {
  error: string;
  status: string;
}

export interface OwnPortOptions {
  settings: ListenSettings;
  path: string;
  ownerId: string;
  /** The node's tls-config node (RED.nodes.getNode(settings.tlsId)), when it names one. */
  tlsConfig?: TlsConfigNode | null;
  handler: OwnHandler;
  /** The node's message catalog (keys relative to agent-callback-in). */
  t: Translate;
  onListening(url: string): void;
  onProblem(problem: ListenProblem): void;
}

export interface OwnPortHandle {
  /** Takes the node off its server; the last node off closes it (connections included) and frees the port. */
  close(): Promise<void>;
}

type Values = Record<string, string | number>;

/** Why a bind failed, as a message the user can act on (the system's own text only when it is none of the known ones). */
function bindProblem(t: Translate, code: string, detail: string, values: Values): ListenProblem {
  const status = t("status.port-failed", values);
  if (code === "EADDRINUSE") return { error: t("errors.port-in-use", values), status };
  if (code === "EACCES" || code === "EPERM") return { error: t("errors.port-denied", values), status };
  if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND" || code === "EAI_AGAIN") return { error: t("errors.port-address", values), status };
  if (code === "ETLS") return { error: t("errors.tls-bad", { ...values, detail }), status: t("status.tls") };
  return { error: t("errors.port-failed", { ...values, detail }), status };
}

function tlsProblem(t: Translate, problem: "tls-missing" | "tls-invalid" | "tls-no-cert"): ListenProblem {
  const error =
    problem === "tls-missing" ? t("errors.tls-missing") : problem === "tls-invalid" ? t("errors.tls-invalid") : t("errors.tls-no-cert");
  return { error, status: t("status.tls") };
}

/** Puts a node on its own server (listen: port): reads its TLS config, attaches, reports listening or the problem. */
export function openOwnPort(options: OwnPortOptions): OwnPortHandle {
  const { settings, t } = options;
  const values: Values = { host: settings.host, port: settings.port, path: options.path };
  const none: OwnPortHandle = { close: () => Promise.resolve() };
  let tls: OwnTlsOptions | undefined;
  if (settings.tlsId !== "") {
    const reading = tlsFromConfig(options.tlsConfig);
    if (!reading.ok) {
      options.onProblem(tlsProblem(t, reading.problem));
      return none;
    }
    tls = reading.tls;
  }
  const attached = ownServers.attach(serverSpec(settings, tls), options.path, options.ownerId, options.handler);
  if (!attached.ok) {
    options.onProblem(
      attached.reason === "duplicate-path"
        ? { error: t("errors.duplicate-own-path", values), status: t("status.duplicate") }
        : { error: t("errors.tls-mismatch", values), status: t("status.tls") },
    );
    return none;
  }
  const { endpoint } = attached;
  let closed = false;
  void endpoint.listening.then((outcome) => {
    if (closed) return;
    if (outcome.ok) options.onListening(endpointUrl(settings, tls !== undefined, options.path));
    else options.onProblem(bindProblem(t, outcome.code, outcome.message, values));
  });
  return {
    close: () => {
      closed = true;
      return endpoint.detach();
    },
  };
}
