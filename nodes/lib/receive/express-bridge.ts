// With `respond: flow` a core `http response` node answers through Express's response methods
// (status, set, send, jsonp, cookie) on msg.res._res. A request on callback in's own server is a
// plain node:http one, so it gets Express's request and response prototypes of Node-RED's node
// app and its parsed query, as Express's init and query middleware give every request it routes.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Application, Request, Response } from "express";
import { pathParams, targetPathname } from "./own-path";

interface ExpressApp {
  request: object;
  response: object;
}

/**
 * Makes `req`/`res` Express's request/response of `app` (only for requests handed to the flow), with
 * what Express's router sets: params of the node's `path`, originalUrl, baseUrl.
 */
export function lendExpress(app: Application, req: IncomingMessage, res: ServerResponse, path: string): { req: Request; res: Response } {
  const express = app as unknown as ExpressApp;
  Object.setPrototypeOf(req, express.request);
  Object.setPrototypeOf(res, express.response);
  const request = req as Request;
  const response = res as Response;
  request.res = response;
  response.req = request;
  response.locals ??= Object.create(null) as Record<string, unknown>;
  // Express's query middleware sets req.query; res.jsonp (http response's reply for objects) reads it.
  const parse: unknown = app.get("query parser fn");
  const search = (req.url ?? "").split("?")[1] ?? "";
  request.query = (typeof parse === "function" ? (parse as (text: string) => unknown)(search) : {}) as Request["query"];
  request.params = pathParams(path, targetPathname(req.url));
  request.originalUrl = req.url ?? "/";
  request.baseUrl = "";
  return { req: request, res: response };
}
