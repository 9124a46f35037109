// How callback out reaches a receiver: directly, through a proxy (a core "http proxy" config node,
// else HTTP_PROXY / HTTPS_PROXY / NO_PROXY from the environment, as core http request does), and
// with the TLS options of a core "tls-config" node (custom CA, client certificate, verification).
// Pure: the config nodes and the environment are passed in, so it runs without Node-RED.
import type { ConnectionOptions } from "node:tls";
import { Agent, EnvHttpProxyAgent, type Dispatcher } from "undici";
import { redactUrl } from "../shared/redact-url";
import type { MessageText } from "./request-headers";

/** A proxy as the core "http proxy" config node holds it. */
export interface ProxySettings {
  url: string;
  /** Hosts (optionally :port, leading `.` or `*.` for subdomains) reached without the proxy. */
  noProxy: string[];
  username?: string;
  password?: string;
}

/** The TLS options of connections to receivers; what tls-config's addTLSOptions fills in. */
export type TlsSettings = Pick<ConnectionOptions, "ca" | "cert" | "key" | "passphrase" | "servername" | "rejectUnauthorized">;

export interface NetworkSettings {
  /** A proxy config node: wins over the environment. */
  proxy?: ProxySettings;
  tls?: TlsSettings;
}

/** The parts of the core config nodes read here (both ship without types). */
export interface ProxyConfigNode {
  url?: unknown;
  noproxy?: unknown;
  credentials?: { username?: unknown; password?: unknown };
}
export interface TlsConfigNode {
  valid?: boolean;
  verifyservercert?: boolean;
  addTLSOptions(opts: Record<string, unknown>): Record<string, unknown>;
}

/** A proxy URL given as host:port gets the scheme http:// (core http request gives it the target's scheme). */
export function proxyUrl(value: string, message: MessageText): string {
  const text = value.trim();
  const withScheme = text.includes("://") ? text : `http://${text}`;
  let url: URL | undefined;
  try {
    url = new URL(withScheme);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:") || url.hostname === "") {
    throw new Error(message("errors.bad-proxy-url", { url: redactUrl(text) }));
  }
  return withScheme;
}

/** The proxy config node's settings; throws when its URL is not one. */
export function proxyFromConfigNode(config: ProxyConfigNode, message: MessageText): ProxySettings {
  const noProxy = Array.isArray(config.noproxy) ? config.noproxy.filter((h): h is string => typeof h === "string" && h.trim() !== "") : [];
  const proxy: ProxySettings = { url: proxyUrl(typeof config.url === "string" ? config.url : "", message), noProxy };
  const { username, password } = config.credentials ?? {};
  if (typeof username === "string" && username !== "") proxy.username = username;
  if (typeof password === "string" && password !== "") proxy.password = password;
  return proxy;
}

/**
 * The tls-config node's options: key, cert, ca, passphrase, servername and rejectUnauthorized.
 * Its ALPN protocol is left out: undici speaks HTTP/1.1 and negotiates that itself. Throws when
 * the node could not read its files (it would silently connect without them).
 */
export function tlsFromConfigNode(config: TlsConfigNode, id: string, message: MessageText): TlsSettings {
  if (config.valid === false) throw new Error(message("errors.tls-invalid", { id }));
  const filled = config.addTLSOptions({}) as TlsSettings & { ALPNProtocols?: unknown };
  const tls: TlsSettings = {};
  for (const key of ["ca", "cert", "key", "passphrase", "servername"] as const) {
    if (filled[key] !== undefined && filled[key] !== "") Object.assign(tls, { [key]: filled[key] });
  }
  // Verification is off only when the user turned it off in the tls-config node.
  tls.rejectUnauthorized = filled.rejectUnauthorized !== false;
  return tls;
}

type Env = Readonly<Record<string, string | undefined>>;

/** `name` in lower case, else upper case, as core http request reads it; "" when neither is set. */
function fromEnv(env: Env, name: string): string {
  return env[name.toLowerCase()] || env[name.toUpperCase()] || "";
}

/** Where requests go: the proxy config node, else the environment; undefined when nothing is proxied. */
export function proxyRoutes(
  settings: NetworkSettings,
  env: Env,
  message: MessageText,
): { httpProxy: string; httpsProxy: string; noProxy: string; token?: string } | undefined {
  const { proxy } = settings;
  if (proxy) {
    const routes: { httpProxy: string; httpsProxy: string; noProxy: string; token?: string } = {
      httpProxy: proxy.url,
      httpsProxy: proxy.url,
      noProxy: proxy.noProxy.join(","),
    };
    if (proxy.username !== undefined || proxy.password !== undefined) {
      routes.token = `Basic ${Buffer.from(`${proxy.username ?? ""}:${proxy.password ?? ""}`).toString("base64")}`;
    }
    return routes;
  }
  const http = fromEnv(env, "http_proxy");
  const https = fromEnv(env, "https_proxy");
  if (http === "" && https === "") return undefined;
  // undici sends https through HTTP_PROXY when HTTPS_PROXY is not set, as Node.js's own fetch does.
  return {
    httpProxy: http === "" ? "" : proxyUrl(http, message),
    httpsProxy: https === "" ? "" : proxyUrl(https, message),
    noProxy: fromEnv(env, "no_proxy"),
  };
}

/**
 * A keep-alive connection pool per node: callbacks to the same receiver reuse sockets, and at most
 * `connections` sockets are open to each origin. Through a proxy, http:// callbacks are forwarded
 * (absolute URI) and https:// ones tunnelled (CONNECT), TLS to the receiver inside the tunnel.
 * Throws when a proxy URL is not one.
 */
export function createNetworkDispatcher(connections: number, settings: NetworkSettings, env: Env, message: MessageText): Dispatcher {
  const pool = { connections, keepAliveTimeout: 30_000, keepAliveMaxTimeout: 600_000, pipelining: 1 };
  const tls = settings.tls;
  const routes = proxyRoutes(settings, env, message);
  if (!routes) return new Agent(tls ? { ...pool, connect: tls } : pool);
  return new EnvHttpProxyAgent({
    ...pool,
    ...routes,
    proxyTunnel: false,
    ...(tls ? { connect: tls, requestTls: tls } : {}),
  });
}
