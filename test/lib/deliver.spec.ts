import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createDispatcher, deliverOnce } from "../../nodes/lib/deliver";
import { freePort } from "../support/node-red";

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

describe("lib/deliver", () => {
  let server: Server;
  let handler: Handler;
  let url: string;
  const dispatcher = createDispatcher(4);

  before(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => handler(req, Buffer.concat(chunks).toString("utf8"), res));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  after(async () => {
    await dispatcher.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it("posts the exact body with the given headers and parses a JSON reply", async () => {
    let seen: { method?: string; headers?: IncomingMessage["headers"]; body?: string } = {};
    handler = (req, body, res) => {
      seen = { method: req.method, headers: req.headers, body };
      res.writeHead(200, { "Content-Type": "application/json; charset=utf-8", "X-Reply": "yes" });
      res.end('{"received":true}');
    };
    const body = '{"a":"é"}';
    const result = await deliverOnce({
      url,
      body,
      headers: { "Content-Type": "application/json", "X-Test": "1" },
      timeoutMs: 5000,
      dispatcher,
    });
    assert.equal(seen.method, "POST");
    assert.equal(seen.body, body);
    assert.equal(seen.headers?.["x-test"], "1");
    assert.equal(result.statusCode, 200);
    assert.deepEqual(result.payload, { received: true });
    assert.equal(result.headers?.["x-reply"], "yes");
    assert.deepEqual(result.outcome, { kind: "response", statusCode: 200, retryAfter: undefined });
  });

  it("returns a text reply as text and reads Retry-After", async () => {
    handler = (_req, _body, res) => {
      res.writeHead(429, { "Content-Type": "text/plain", "Retry-After": "7" });
      res.end("slow down");
    };
    const result = await deliverOnce({ url, body: "{}", headers: {}, timeoutMs: 5000, dispatcher });
    assert.equal(result.statusCode, 429);
    assert.equal(result.payload, "slow down");
    assert.equal(result.retryAfterSeconds, 7);
    assert.deepEqual(result.outcome, { kind: "response", statusCode: 429, retryAfter: "7" });
  });

  it("does not follow redirects", async () => {
    handler = (_req, _body, res) => {
      res.writeHead(302, { Location: "/elsewhere" });
      res.end();
    };
    const result = await deliverOnce({ url, body: "{}", headers: {}, timeoutMs: 5000, dispatcher });
    assert.equal(result.statusCode, 302);
  });

  it("reports a timeout when the receiver does not answer in time", async () => {
    handler = () => {
      /* never answers */
    };
    const result = await deliverOnce({ url, body: "{}", headers: {}, timeoutMs: 200, dispatcher });
    assert.equal(result.outcome.kind, "timeout");
    assert.match(result.error ?? "", /timeout/);
  });

  it("reports a refused connection as a network outcome", async () => {
    const port = await freePort();
    const result = await deliverOnce({ url: `http://127.0.0.1:${port}/`, body: "{}", headers: {}, timeoutMs: 5000, dispatcher });
    assert.equal(result.outcome.kind, "network");
    assert.match(result.error ?? "", /ECONNREFUSED/);
  });

  it("stops when its signal aborts", async () => {
    handler = () => {
      /* never answers */
    };
    const controller = new AbortController();
    const pending = deliverOnce({ url, body: "{}", headers: {}, timeoutMs: 10_000, dispatcher, signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    const result = await pending;
    assert.equal(result.outcome.kind, "network");
    assert.match(result.error ?? "", /closing/);
  });
});
