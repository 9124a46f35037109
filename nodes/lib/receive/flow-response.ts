// What a msg carries with `respond: flow`: the request and a response wrapper built as core
// `http in` builds it, because core `http response` answers through `msg.res._res` with Express's
// response methods. The only Express-dependent part of callback in's request path.
import type { IncomingMessage, ServerResponse } from "node:http";

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

/** msg.req and msg.res for the flow that will answer the request. */
export function forFlow(req: IncomingMessage, res: ServerResponse): { req: IncomingMessage; res: Record<string, unknown> } {
  // Like core http in: headers made enumerable so they show in the debug sidebar.
  Object.defineProperty(req, "headers", { value: req.headers, enumerable: true });
  return { req, res: responseWrapper(res) };
}
