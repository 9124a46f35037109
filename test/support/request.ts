// One HTTP(S) request with node:http(s), for servers fetch() cannot reach as tests need: a test
// CA, a client certificate, or a fresh connection each time (agent: false).
import http from "node:http";
import https from "node:https";

export interface SimpleResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

export interface SimpleRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** For https: the CA to trust, and a client certificate to present. */
  ca?: string;
  cert?: string;
  key?: string;
  agent?: http.Agent | false;
}

export function request(url: string, options: SimpleRequest = {}): Promise<SimpleResponse> {
  const target = new URL(url);
  const secure = target.protocol === "https:";
  const body = options.body === undefined ? undefined : Buffer.from(options.body);
  const headers: Record<string, string | number> = { ...options.headers };
  if (body) headers["Content-Length"] = body.length;
  return new Promise((resolve, reject) => {
    const onResponse = (res: http.IncomingMessage): void => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    };
    const common = { method: options.method ?? (body ? "POST" : "GET"), headers, agent: options.agent ?? false };
    const req = secure
      ? https.request(target, { ...common, ca: options.ca, cert: options.cert, key: options.key }, onResponse)
      : http.request(target, common, onResponse);
    req.on("error", reject);
    req.end(body);
  });
}

/** The same, retried while the connection is refused or reset (a server that binds just after a deploy). */
export async function requestWhenUp(url: string, options: SimpleRequest = {}, timeoutMs = 10_000): Promise<SimpleResponse> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await request(url, options);
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
