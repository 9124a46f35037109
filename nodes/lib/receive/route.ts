// The raw-body POST route of a callback in node on Node-RED's HTTP app.
//
// Node-RED's admin app sits at "/" in front of the node routes and parses JSON bodies, which
// would consume the bytes a signature is computed over. So, like core `http in`'s raw-body option,
// we put a tiny middleware at the top of the root app's stack; unlike core it does not read the
// body, it only marks the request as already parsed (`req._body`) so that every body parser skips
// it. Our own route then reads the raw bytes itself, after httpNodeAuth, httpNodeMiddleware, CORS
// and the header checks of the Receiver, stopping at the size limit. Paths of the editor itself are refused.
import type { Application, NextFunction, Request, RequestHandler, Response } from "express";
import type { NodeAPI } from "../shared/node-red-types";
import { adminClash } from "./admin-paths";
import { RAW_MARK } from "./body";
import { pathKey } from "./own-path";

/** Express 4 internals used to reorder and remove layers (as core `http in` does). */
interface Layer {
  handle: unknown;
  route?: { path: unknown; methods: Record<string, boolean | undefined>; stack: Array<{ handle: unknown }> };
  /** Express's own matcher for this layer (case, trailing slash and :params as Express routes them). */
  match?(path: string): boolean;
}
/** A protected route: where its app is mounted and the layer that routes it. */
interface Protected {
  mount: string;
  layer: Layer;
}
interface RouterInternals {
  _router?: { stack: Layer[] };
  parent?: Application;
}

type MarkedRequest = Request & { _body?: boolean; [RAW_MARK]?: boolean };

/** Routes per root app whose requests the marker middleware must keep away from body parsers. */
const protectedRoutes = new WeakMap<Application, Set<Protected>>();
/** Which node owns each route key, per node app, to refuse a second node on the same path. */
const owners = new WeakMap<Application, Map<string, string>>();

function internals(app: Application): RouterInternals {
  return app as unknown as RouterInternals;
}

function rootApp(app: Application): Application {
  let current = app;
  for (let parent = internals(current).parent; parent; parent = internals(current).parent) current = parent;
  return current;
}

/** Express routes are case-insensitive and ignore one trailing slash by default; keys do too. */
export function routeKey(method: string, path: string): string {
  return `${method.toUpperCase()}:${pathKey(path)}`;
}

/** Where the node app is mounted, without trailing slash ("" at the root); Node-RED mounts it at "/hooks/". */
function mountPath(app: Application): string {
  const path = typeof app.path === "function" ? app.path() : "";
  return path.replace(/\/{2,}/g, "/").replace(/\/+$/, "");
}

function installMarker(root: Application): Set<Protected> {
  let routes = protectedRoutes.get(root);
  if (routes) return routes;
  const entries = new Set<Protected>();
  routes = entries;
  protectedRoutes.set(root, entries);
  const marker: RequestHandler = (req, _res, next) => {
    if (entries.size > 0 && req.method === "POST") {
      let pathname: string | undefined;
      try {
        // req.path is not set yet at the top of the stack.
        pathname = new URL(req.url, "http://x").pathname;
      } catch {
        pathname = undefined;
      }
      if (pathname !== undefined) {
        for (const entry of entries) {
          if (!pathname.toLowerCase().startsWith(entry.mount.toLowerCase())) continue;
          const rest = pathname.slice(entry.mount.length) || "/";
          if (entry.layer.match?.(rest)) {
            const marked = req as MarkedRequest;
            marked._body = true;
            marked[RAW_MARK] = true;
            break;
          }
        }
      }
    }
    next();
  };
  root.use(marker);
  const stack = internals(root)._router?.stack;
  if (stack) {
    const index = stack.findIndex((layer) => layer.handle === marker);
    if (index > 0) stack.unshift(...stack.splice(index, 1));
  }
  return entries;
}

/** Core `http in` registers its CORS handler as OPTIONS "*"; reuse it so both behave the same. */
function corsHandler(RED: NodeAPI): RequestHandler | undefined {
  const cors = RED.settings.httpNodeCors;
  if (!cors) return undefined;
  const core = internals(RED.httpNode)._router?.stack.find((layer) => layer.route?.path === "*" && layer.route.methods.options);
  const handle = core?.route?.stack[0]?.handle;
  if (typeof handle === "function") return handle as RequestHandler;
  // Core http in is not loaded (e.g. in a trimmed runtime): the common subset of the cors options.
  return (req, res, next) => {
    const origin = req.headers.origin;
    const allowed = cors.origin ?? "*";
    let value: string | undefined;
    if (allowed === "*") value = "*";
    else if (allowed === true && origin) value = origin;
    else if (typeof allowed === "string" && allowed === origin) value = origin;
    else if (Array.isArray(allowed) && origin && allowed.includes(origin)) value = origin;
    if (value) {
      res.setHeader("Access-Control-Allow-Origin", value);
      if (value !== "*") res.setHeader("Vary", "Origin");
    }
    if (req.method === "OPTIONS") {
      res.setHeader("Access-Control-Allow-Methods", typeof cors.methods === "string" ? cors.methods : "GET,HEAD,PUT,PATCH,POST,DELETE");
      const requested = req.headers["access-control-request-headers"];
      if (requested) res.setHeader("Access-Control-Allow-Headers", requested);
      res.statusCode = 204;
      res.setHeader("Content-Length", "0");
      res.end();
      return;
    }
    next();
  };
}

export interface RawRoute {
  /** Path as seen from outside: httpNodeRoot + url. */
  readonly fullPath: string;
  remove(): void;
}

export type AddRouteResult =
  | { ok: true; route: RawRoute }
  | { ok: false; reason: "disabled" }
  | { ok: false; reason: "duplicate"; fullPath: string }
  | { ok: false; reason: "admin-clash"; fullPath: string; adminPath: string };

export interface RawRouteOptions {
  url: string;
  ownerId: string;
  handler: (req: Request, res: Response) => void;
  /** An error from httpNodeMiddleware or the handler chain. */
  onError: (err: unknown, req: Request, res: Response) => void;
}

/** Adds a POST route whose handler reads the raw body itself (see readRawBody). */
export function addRawPostRoute(RED: NodeAPI, options: RawRouteOptions): AddRouteResult {
  if (RED.settings.httpNodeRoot === false) return { ok: false, reason: "disabled" };
  const app = RED.httpNode;
  const fullPath = (mountPath(app) + options.url).replace(/\/{2,}/g, "/");
  const adminPath = adminClash(fullPath, RED.settings.httpAdminRoot, RED.httpAdmin);
  if (adminPath !== undefined) return { ok: false, reason: "admin-clash", fullPath, adminPath };
  const key = routeKey("POST", fullPath);
  const localKey = routeKey("POST", options.url);

  let appOwners = owners.get(app);
  if (!appOwners) owners.set(app, (appOwners = new Map()));
  const owner = appOwners.get(key);
  const takenByOtherNode = internals(app)._router?.stack.some(
    (layer) => layer.route?.methods.post && typeof layer.route.path === "string" && routeKey("POST", layer.route.path) === localKey,
  );
  if ((owner !== undefined && owner !== options.ownerId) || (owner === undefined && takenByOtherNode)) {
    return { ok: false, reason: "duplicate", fullPath };
  }
  appOwners.set(key, options.ownerId);

  const chain: RequestHandler[] = [];
  const middleware = RED.settings.httpNodeMiddleware;
  if (typeof middleware === "function") chain.push(middleware);
  else if (Array.isArray(middleware)) chain.push(...middleware.filter((m): m is RequestHandler => typeof m === "function"));
  const cors = corsHandler(RED);
  if (cors) chain.push(cors);

  const route = app.route(options.url);
  route.post(
    ...chain,
    (req: Request, res: Response) => options.handler(req, res),
    (err: unknown, req: Request, res: Response, _next: NextFunction) => options.onError(err, req, res),
  );
  // Preflight for browsers when CORS is on and core http in's OPTIONS "*" is not there.
  if (cors && !internals(app)._router?.stack.some((layer) => layer.route?.path === "*" && layer.route.methods.options)) {
    route.options(cors);
  }
  const layer = internals(app)._router?.stack.find((l) => l.route === (route as unknown));
  const marked = installMarker(rootApp(app));
  const entry: Protected | undefined = layer ? { mount: mountPath(app), layer } : undefined;
  if (entry) marked.add(entry);

  let removed = false;
  return {
    ok: true,
    route: {
      fullPath,
      remove(): void {
        if (removed) return;
        removed = true;
        const stack = internals(app)._router?.stack;
        if (stack) {
          for (let i = stack.length - 1; i >= 0; i--) {
            if (stack[i]?.route === (route as unknown)) stack.splice(i, 1);
          }
        }
        if (appOwners.get(key) === options.ownerId) appOwners.delete(key);
        if (entry) marked.delete(entry);
      },
    },
  };
}
