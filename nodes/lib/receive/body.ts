// Reading a callback's raw body bytes, bounded, from a plain http.IncomingMessage (Node-RED's
// Express app or a server of our own), because signatures are computed over the exact bytes.
import type { IncomingMessage } from "node:http";

/** Set on requests our route marker kept away from body parsers (see route.ts). */
export const RAW_MARK = Symbol.for("node-red-contrib-agent-callback.raw");

type MarkedRequest = IncomingMessage & { _body?: boolean; [RAW_MARK]?: boolean };

export type RawBodyResult = { ok: true; body: Buffer } | { ok: false; reason: "too-large" | "aborted" | "consumed" };

/**
 * Reads the request body up to `limitBytes`. Stops buffering as soon as the limit is passed
 * (the caller answers 413 with Connection: close, so Node.js closes the socket instead of
 * reading the rest).
 */
export function readRawBody(req: IncomingMessage, limitBytes: number): Promise<RawBodyResult> {
  const marked = req as MarkedRequest;
  if (!marked[RAW_MARK] && (marked._body || req.readableEnded)) return Promise.resolve({ ok: false, reason: "consumed" });
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limitBytes) return Promise.resolve({ ok: false, reason: "too-large" });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (result: RawBodyResult): void => {
      if (settled) return;
      settled = true;
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      resolve(result);
    };
    const onData = (chunk: Buffer | string): void => {
      const buffer = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      size += buffer.length;
      if (size > limitBytes) {
        chunks.length = 0;
        req.pause();
        finish({ ok: false, reason: "too-large" });
        return;
      }
      chunks.push(buffer);
    };
    const onEnd = (): void => finish({ ok: true, body: Buffer.concat(chunks, size) });
    // A client that goes away mid-body ends in "error" (ECONNRESET "aborted", Node.js 16 and later).
    const onError = (): void => finish({ ok: false, reason: "aborted" });
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
  });
}
