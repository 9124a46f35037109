// A server of callback in's own: one per host:port, shared by the callback in nodes on it, each on
// its own path. It answers only those paths (anything else is 404 JSON): no editor, no admin API,
// no httpStatic, no other node's routes, which is the point of giving the webhook a port of its own.
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import https from "node:https";
import type { Socket } from "node:net";
import { Connections, perAddressShare } from "./connections";
import { pathKey, pathMatcher, targetPathname, type PathMatcher } from "./own-path";

/** Sized for webhooks, not for browsers or uploads; fixed (no properties), stated in the README. */
export const OWN_SERVER_LIMITS = {
  /** A request that has not sent all its headers within this is dropped. */
  headersTimeoutMs: 10_000,
  /** An HTTPS connection that has not finished its TLS handshake within this is dropped (no longer than the header limit). */
  handshakeTimeoutMs: 10_000,
  /** A request that has not sent its whole body within this is dropped. */
  requestTimeoutMs: 30_000,
  /** Open connections per server; more are closed as they arrive. One client address may hold a quarter of them. */
  maxConnections: 1000,
  /** How often the two timeouts above are checked (Node.js checks every 30 s by default). */
  checkIntervalMs: 1000,
  /** How long a closing server lets requests in progress finish before it cuts every connection it holds. */
  closeGraceMs: 1000,
} as const;

export type OwnHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** What an https server needs from a tls-config node (its addTLSOptions output, checked). */
export interface OwnTlsOptions {
  key: string | Buffer;
  cert: string | Buffer;
  ca?: string | Buffer;
  passphrase?: string;
  /** Ask for a client certificate and refuse connections without one signed by `ca`. */
  requestCert: boolean;
}

export interface OwnServerSpec {
  host: string;
  port: number;
  /** Identity of the TLS settings (the tls-config node id, "" for plain HTTP): nodes sharing a port must agree. */
  tlsId: string;
  tls?: OwnTlsOptions;
}

export type ListenOutcome = { ok: true; port: number } | { ok: false; code: string; message: string };

export interface OwnEndpoint {
  /** Settles once the server listens or has failed to; a failure is shared by every node on it. */
  readonly listening: Promise<ListenOutcome>;
  /** Takes the path off the server; the last one off closes it and frees the port. */
  detach(): Promise<void>;
}

export type AttachResult =
  { ok: true; endpoint: OwnEndpoint } | { ok: false; reason: "duplicate-path" } | { ok: false; reason: "tls-mismatch" };

interface Route {
  ownerId: string;
  matcher: PathMatcher;
  handler: OwnHandler;
}

const NOT_FOUND = JSON.stringify({ error: "Not found" });
const INTERNAL_ERROR = JSON.stringify({ error: "Internal Server Error" });
const NOT_ALLOWED = JSON.stringify({ error: "Method not allowed: use POST" });

function replyText(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...headers, "Content-Type": "application/json; charset=utf-8", "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}

/** One listening server and the routes on it. */
class OwnServer {
  readonly routes = new Map<string, Route>();
  readonly listening: Promise<ListenOutcome>;
  private readonly server: http.Server;
  private readonly connections = new Connections(perAddressShare(OWN_SERVER_LIMITS.maxConnections));

  /** `previous`: the closing of the server this one replaces on the same host:port, awaited before binding. */
  constructor(
    readonly spec: OwnServerSpec,
    previous: Promise<void> | undefined,
  ) {
    const options: http.ServerOptions = {
      headersTimeout: OWN_SERVER_LIMITS.headersTimeoutMs,
      requestTimeout: OWN_SERVER_LIMITS.requestTimeoutMs,
      connectionsCheckingInterval: OWN_SERVER_LIMITS.checkIntervalMs,
    };
    const onRequest = (req: IncomingMessage, res: ServerResponse): void => this.dispatch(req, res);
    let created: http.Server | undefined;
    let failure: ListenOutcome | undefined;
    try {
      created = spec.tls
        ? https.createServer(
            { ...options, ...spec.tls, rejectUnauthorized: spec.tls.requestCert, handshakeTimeout: OWN_SERVER_LIMITS.handshakeTimeoutMs },
            onRequest,
          )
        : http.createServer(options, onRequest);
    } catch (err) {
      // A key that does not match its certificate, or PEM that is not PEM, throws here.
      failure = { ok: false, code: "ETLS", message: err instanceof Error ? err.message : String(err) };
    }
    this.server = created ?? http.createServer(options, onRequest);
    this.server.maxConnections = OWN_SERVER_LIMITS.maxConnections;
    // The raw TCP socket, before any TLS handshake: counted per address, and destroyable on close.
    this.server.on("connection", (socket: Socket) => this.connections.admit(socket));
    // Without a listener a client's TLS or protocol error would be thrown; the socket is just dropped.
    this.server.on("tlsClientError", (_err: Error, socket: Socket) => socket.destroy());
    this.listening = failure ? Promise.resolve(failure) : (previous ?? Promise.resolve()).then(() => this.listen());
  }

  private listen(): Promise<ListenOutcome> {
    return new Promise((resolve) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        this.server.off("listening", onListening);
        resolve({ ok: false, code: err.code ?? "ERROR", message: err.message });
      };
      const onListening = (): void => {
        this.server.off("error", onError);
        // Errors after listening (rare: e.g. accept failing) must not crash Node-RED.
        this.server.on("error", () => undefined);
        const address = this.server.address();
        resolve({ ok: true, port: typeof address === "object" && address ? address.port : this.spec.port });
      };
      this.server.once("error", onError);
      this.server.once("listening", onListening);
      this.server.listen({ port: this.spec.port, host: this.spec.host, exclusive: true });
    });
  }

  private dispatch(req: IncomingMessage, res: ServerResponse): void {
    const pathname = targetPathname(req.url);
    for (const route of this.routes.values()) {
      if (!route.matcher(pathname)) continue;
      if (req.method === "POST") return this.run(route, req, res);
      req.resume();
      return replyText(res, 405, NOT_ALLOWED, { Allow: "POST" });
    }
    req.resume();
    replyText(res, 404, NOT_FOUND);
  }

  /** A handler's exception would be thrown from the server's "request" event and end Node-RED: answered 500 instead. */
  private run(route: Route, req: IncomingMessage, res: ServerResponse): void {
    try {
      route.handler(req, res);
    } catch {
      if (!res.headersSent) replyText(res, 500, INTERNAL_ERROR, { Connection: "close" });
      else res.destroy();
    }
  }

  /** Stops listening at once (the port is free for the next bind), lets requests in progress finish briefly, then cuts the rest. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.server.listening) {
        this.connections.destroyAll();
        return resolve();
      }
      // closeAllConnections() knows only connections that reached HTTP; a TLS handshake that never
      // ends would hold the close open (and the port for the next server) without destroyAll().
      const grace = setTimeout(() => {
        this.server.closeAllConnections();
        this.connections.destroyAll();
      }, OWN_SERVER_LIMITS.closeGraceMs);
      this.server.close(() => {
        clearTimeout(grace);
        resolve();
      });
      // Kept-alive connections with no request in progress would otherwise hold the close open.
      this.server.closeIdleConnections();
    });
  }
}

function serverKey(host: string, port: number): string {
  return `${host}|${port}`;
}

/** The own servers of this process, by host and port. */
export class OwnServers {
  private readonly servers = new Map<string, OwnServer>();
  private readonly closing = new Map<string, Promise<void>>();

  /** Puts `handler` on `path` of the server for spec.host:spec.port, starting that server if needed. */
  attach(spec: OwnServerSpec, path: string, ownerId: string, handler: OwnHandler): AttachResult {
    const key = serverKey(spec.host, spec.port);
    let server = this.servers.get(key);
    if (server && server.spec.tlsId !== spec.tlsId) return { ok: false, reason: "tls-mismatch" };
    const routeKey = pathKey(path);
    const taken = server?.routes.get(routeKey);
    if (taken && taken.ownerId !== ownerId) return { ok: false, reason: "duplicate-path" };
    if (!server) {
      server = new OwnServer(spec, this.closing.get(key));
      this.servers.set(key, server);
    }
    const route: Route = { ownerId, matcher: pathMatcher(path), handler };
    server.routes.set(routeKey, route);
    const owner = server;
    let detached: Promise<void> | undefined;
    return {
      ok: true,
      endpoint: {
        listening: owner.listening,
        detach: () => {
          detached ??= this.detach(key, owner, routeKey, route);
          return detached;
        },
      },
    };
  }

  private async detach(key: string, server: OwnServer, routeKey: string, route: Route): Promise<void> {
    if (server.routes.get(routeKey) === route) server.routes.delete(routeKey);
    if (server.routes.size > 0) return;
    if (this.servers.get(key) === server) this.servers.delete(key);
    const closed = server.listening.then(() => server.close());
    this.closing.set(key, closed);
    await closed;
    if (this.closing.get(key) === closed) this.closing.delete(key);
  }

  /** How many servers are open (for tests of redeploys). */
  get size(): number {
    return this.servers.size;
  }
}
