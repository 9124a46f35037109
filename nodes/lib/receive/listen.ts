// Where a callback in's requests come from: Node-RED's own HTTP server (under httpNodeRoot, as
// before) or a server of its own on `host`:`port`, optionally HTTPS with a core tls-config node.
import { numberOrDefault, text, type NumberReading } from "../shared/config-values";
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

export const LISTEN_DEFAULTS = { port: 8443, host: "0.0.0.0" } as const;

export function listenSettings(props: ListenProperties): ListenSettings {
  const mode: ListenMode = props.listen === "port" ? "port" : "node-red";
  let port = numberOrDefault("port", props.port, LISTEN_DEFAULTS.port, { min: 1, integer: true });
  if (port.value > 65535)
    port = { value: LISTEN_DEFAULTS.port, problem: { field: "port", value: String(props.port), fallback: LISTEN_DEFAULTS.port } };
  const host = text(props.host).trim() || LISTEN_DEFAULTS.host;
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

/** A problem to log and show: the locale keys of the log message and the status text, and their values. */
export interface ListenProblem {
  error: string;
  status: string;
  values: Record<string, string | number>;
}

export interface OwnPortOptions {
  settings: ListenSettings;
  path: string;
  ownerId: string;
  /** The node's tls-config node (RED.nodes.getNode(settings.tlsId)), when it names one. */
  tlsConfig?: TlsConfigNode | null;
  handler: OwnHandler;
  onListening(url: string): void;
  onProblem(problem: ListenProblem): void;
}

export interface OwnPortHandle {
  /** Takes the node off its server; the last node off closes it (connections included) and frees the port. */
  close(): Promise<void>;
}

/** Why a bind failed, as a message the user can act on (the system's own text only when it is none of the known ones). */
function bindProblem(code: string, detail: string, values: Record<string, string | number>): ListenProblem {
  const status = "status.port-failed";
  if (code === "EADDRINUSE") return { error: "errors.port-in-use", status, values };
  if (code === "EACCES" || code === "EPERM") return { error: "errors.port-denied", status, values };
  if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND" || code === "EAI_AGAIN") return { error: "errors.port-address", status, values };
  if (code === "ETLS") return { error: "errors.tls-bad", status: "status.tls", values: { ...values, detail } };
  return { error: "errors.port-failed", status, values: { ...values, detail } };
}

/** Puts a node on its own server (listen: port): reads its TLS config, attaches, reports listening or the problem. */
export function openOwnPort(options: OwnPortOptions): OwnPortHandle {
  const { settings } = options;
  const values = { host: settings.host, port: settings.port, path: options.path };
  let tls: OwnTlsOptions | undefined;
  if (settings.tlsId !== "") {
    const reading = tlsFromConfig(options.tlsConfig);
    if (!reading.ok) {
      options.onProblem({ error: `errors.${reading.problem}`, status: "status.tls", values });
      return { close: () => Promise.resolve() };
    }
    tls = reading.tls;
  }
  const attached = ownServers.attach(serverSpec(settings, tls), options.path, options.ownerId, options.handler);
  if (!attached.ok) {
    const duplicate = attached.reason === "duplicate-path";
    options.onProblem({
      error: duplicate ? "errors.duplicate-own-path" : "errors.tls-mismatch",
      status: duplicate ? "status.duplicate" : "status.tls",
      values,
    });
    return { close: () => Promise.resolve() };
  }
  const { endpoint } = attached;
  let closed = false;
  void endpoint.listening.then((outcome) => {
    if (closed) return;
    if (outcome.ok) options.onListening(endpointUrl(settings, tls !== undefined, options.path));
    else options.onProblem(bindProblem(outcome.code, outcome.message, values));
  });
  return {
    close: () => {
      closed = true;
      return endpoint.detach();
    },
  };
}
