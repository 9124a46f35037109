// What a msg carries with `respond: flow`: the request and a response wrapper built as core
// `http in` builds it, because core `http response` answers through `msg.res._res` with Express's
// response methods. The only Express-dependent part of callback in's request path.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import { parseCookies } from "./cookies";
import { lendExpress } from "./express-bridge";
import type { NodeAPI } from "../shared/node-red-types";

const EXPRESS_RESPONSE_METHODS = [
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
] as const;

/** Response wrapper as core `http in` builds it; methods the response lacks return undefined. */
export function responseWrapper(res: ServerResponse): Record<string, unknown> {
  const wrapper: Record<string, unknown> = { _res: res };
  const target = res as unknown as Record<string, unknown>;
  for (const name of EXPRESS_RESPONSE_METHODS) {
    wrapper[name] = (...args: unknown[]): unknown => {
      const fn = target[name];
      if (typeof fn !== "function") return undefined;
      const result: unknown = fn.apply(res, args);
      return result === res ? wrapper : result;
    };
  }
  return wrapper;
}

/**
 * msg.req and msg.res for the flow that will answer the request. The headers that carried the
 * secret or a signature are taken out of what the msg carries (the check has already happened),
 * so that a debug node or a stored msg never shows them.
 */
export function forFlow(
  req: IncomingMessage,
  res: ServerResponse,
  hiddenHeaders: readonly string[],
): { req: IncomingMessage; res: Record<string, unknown> } {
  const hidden = new Set(hiddenHeaders.map((name) => name.toLowerCase()));
  const headers: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(req.headers)) if (!hidden.has(name)) headers[name] = value;
  const rawHeaders: string[] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] as string;
    if (!hidden.has(name.toLowerCase())) rawHeaders.push(name, req.rawHeaders[i + 1] as string);
  }
  // Read before rawHeaders is replaced: Node.js builds it lazily from rawHeaders with the original count.
  const distinct: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(req.headersDistinct)) if (values && !hidden.has(name)) distinct[name] = values;
  // Like core http in: headers enumerable so they show in the debug sidebar.
  const own = (name: string, value: unknown): void => {
    Object.defineProperty(req, name, { value, enumerable: true, writable: true, configurable: true });
  };
  own("headers", headers);
  own("rawHeaders", rawHeaders);
  own("headersDistinct", distinct);
  // Core http in's route parses cookies (cookie-parser); one in httpNodeMiddleware may have already.
  const withCookies = req as IncomingMessage & { cookies?: unknown; signedCookies?: unknown };
  withCookies.cookies ??= parseCookies(headers.cookie);
  withCookies.signedCookies ??= {};
  return { req, res: responseWrapper(res) };
}

/** msg.req/msg.res on a port of its own: the plain node:http pair made Express's first (lendExpress). */
export function forFlowOnOwnPort(
  RED: NodeAPI,
  path: string,
  req: IncomingMessage,
  res: ServerResponse,
  hiddenHeaders: readonly string[],
): ReturnType<typeof forFlow> {
  lendExpress(RED.httpNode, req, res, path);
  return forFlow(req, res, hiddenHeaders);
}
