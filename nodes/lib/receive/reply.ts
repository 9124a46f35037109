// JSON replies of callback in on a plain http.ServerResponse: every reply to a sender is JSON.
import type { ServerResponse } from "node:http";

const JSON_CONTENT_TYPE = "application/json; charset=utf-8";

/** Sends a JSON reply. */
export function replyJson(res: ServerResponse, status: number, body: unknown, headers?: Record<string, string>): void {
  replyJsonText(res, status, JSON.stringify(body), headers);
}

/**
 * The same with the body already serialised: the frequent replies are made once, not per request.
 * Headers go to writeHead as one flat list, Node.js's cheapest way to send them (headers set
 * earlier, such as Express's, are kept).
 */
export function replyJsonText(res: ServerResponse, status: number, text: string, headers?: Record<string, string>): void {
  if (res.headersSent) return;
  const raw: Array<string | number> = [];
  if (headers) for (const name of Object.keys(headers)) raw.push(name, headers[name] as string);
  raw.push("Content-Type", JSON_CONTENT_TYPE, "Content-Length", Buffer.byteLength(text));
  res.writeHead(status, raw);
  res.end(text);
}
