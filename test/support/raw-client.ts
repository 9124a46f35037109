// HTTP requests with what fetch cannot choose: the local address (127.0.0.2 is a second client on
// Linux's loopback), repeated headers, chunked bodies, and bodies declared but sent slowly or never.
import http from "node:http";

export interface RawReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** ms from the request's start to the end of the reply. */
  elapsedMs: number;
  /** ms from the connection being established to the end of the reply (what the server took). */
  answeredMs: number;
}

export interface RawRequest {
  url: string;
  /** Header values; an array sends the header once per value. */
  headers?: Record<string, string | string[]>;
  /** Sent in these pieces (chunked when no Content-Length header is given). */
  body?: Buffer | string | Array<Buffer | string>;
  localAddress?: string;
  /** Keep the request open after the body pieces (a slow sender that never finishes). */
  hold?: boolean;
}

/** Sends one request on its own connection and resolves with the reply. */
export function rawPost(options: RawRequest): Promise<RawReply> {
  const started = Date.now();
  let connected = started;
  const url = new URL(options.url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method: "POST",
        headers: options.headers,
        localAddress: options.localAddress,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString("utf8"),
            elapsedMs: Date.now() - started,
            answeredMs: Date.now() - connected,
          });
          if (options.hold) req.destroy();
        });
        res.on("error", reject);
      },
    );
    req.on("socket", (socket) => socket.once("connect", () => (connected = Date.now())));
    // A server that answers before the body and closes may reset a connection we still write to.
    req.on("error", (err) => reject(err));
    const pieces = options.body === undefined ? [] : Array.isArray(options.body) ? options.body : [options.body];
    for (const piece of pieces) req.write(piece);
    if (!options.hold) req.end();
  });
}
