import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { MAX_REPLY_BYTES, deliverOnce } from "../../../nodes/lib/send/deliver";
import { createNetworkDispatcher } from "../../../nodes/lib/send/network";
import { deliveryMessages as messages } from "../../support/delivery-messages";
import { freePort } from "../../support/node-red";

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

describe("lib/deliver", () => {
  let server: Server;
  let handler: Handler;
  let url: string;
  const dispatcher = createNetworkDispatcher(4, {}, {}, (key) => key);

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
      messages,
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
    const result = await deliverOnce({ url, body: "{}", headers: {}, timeoutMs: 5000, dispatcher, messages });
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
    const result = await deliverOnce({ url, body: "{}", headers: {}, timeoutMs: 5000, dispatcher, messages });
    assert.equal(result.statusCode, 302);
  });

  it("reports a timeout when the receiver does not answer in time", async () => {
    handler = () => {
      /* never answers */
    };
    const result = await deliverOnce({ url, body: "{}", headers: {}, timeoutMs: 200, dispatcher, messages });
    assert.equal(result.outcome.kind, "timeout");
    assert.match(result.error ?? "", /timeout/);
  });

  it("reports a refused connection as a network outcome", async () => {
    const port = await freePort();
    const result = await deliverOnce({ url: `http://127.0.0.1:${port}/`, body: "{}", headers: {}, timeoutMs: 5000, dispatcher, messages });
    assert.equal(result.outcome.kind, "network");
    assert.match(result.error ?? "", /ECONNREFUSED/);
  });

  it("stops when its signal aborts", async () => {
    handler = () => {
      /* never answers */
    };
    const controller = new AbortController();
    const pending = deliverOnce({ url, body: "{}", headers: {}, timeoutMs: 10_000, dispatcher, signal: controller.signal, messages });
    setTimeout(() => controller.abort(), 50);
    const result = await pending;
    assert.equal(result.outcome.kind, "network");
    assert.match(result.error ?? "", /closing/);
  });

  it("times out over the whole attempt: a reply whose body never ends is a timeout", async () => {
    handler = (_req, _body, res) => {
      res.writeHead(200, { "Content-Type": "text/plain" });
      res.write("partial");
      const drip = setInterval(() => res.write("."), 50);
      res.on("close", () => clearInterval(drip));
    };
    const started = Date.now();
    const result = await deliverOnce({ url, body: "{}", headers: {}, timeoutMs: 400, dispatcher, messages });
    assert.equal(result.outcome.kind, "timeout");
    assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
  });

  it("keeps at most MAX_REPLY_BYTES of a large reply and still completes", async () => {
    handler = (_req, _body, res) => {
      res.writeHead(200, { "Content-Type": "text/plain" });
      res.end("y".repeat(MAX_REPLY_BYTES + 300_000));
    };
    const result = await deliverOnce({ url, body: "{}", headers: {}, timeoutMs: 5000, dispatcher, messages });
    assert.equal(result.statusCode, 200);
    assert.equal((result.payload as string).length, MAX_REPLY_BYTES);
    // The connection was drained, not left half-read: the next attempt on the pool works.
    handler = (_req, _body, res) => res.end("ok");
    assert.equal((await deliverOnce({ url, body: "{}", headers: {}, timeoutMs: 5000, dispatcher, messages })).payload, "ok");
  });

  it("reports a connection reset after the headers as a network outcome", async () => {
    handler = (req, _body, res) => {
      res.writeHead(200, { "Content-Type": "text/plain", "Content-Length": "100" });
      res.write("short");
      setTimeout(() => req.socket.destroy(), 20);
    };
    const result = await deliverOnce({ url, body: "{}", headers: {}, timeoutMs: 5000, dispatcher, messages });
    assert.equal(result.outcome.kind, "network");
    assert.ok(result.error);
  });

  it("gives repeated reply headers as arrays", async () => {
    handler = (_req, _body, res) => {
      res.setHeader("Set-Cookie", ["a=1", "b=2"]);
      res.writeHead(201, { "Content-Type": "application/json" });
      res.end('{"ok":1}');
    };
    const result = await deliverOnce({ url, body: "{}", headers: {}, timeoutMs: 5000, dispatcher, messages });
    assert.equal(result.statusCode, 201);
    assert.deepEqual(result.headers?.["set-cookie"], ["a=1", "b=2"]);
    assert.deepEqual(result.payload, { ok: 1 });
  });

  it("a stop before the request was written means it is never sent", async () => {
    let seen = 0;
    handler = (_req, _body, res) => {
      seen += 1;
      res.end("ok");
    };
    const controller = new AbortController();
    controller.abort();
    const result = await deliverOnce({ url, body: "{}", headers: {}, timeoutMs: 5000, dispatcher, signal: controller.signal, messages });
    assert.equal(result.outcome.kind, "network");
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(seen, 0);
  });

  it("refuses, without sending, a header value a request cannot carry (given up at once, not retried)", async () => {
    let seen = 0;
    handler = (_req, _body, res) => {
      seen += 1;
      res.writeHead(200).end();
    };
    for (const value of ["a\r\nX-Injected: 1", "exec_☃", "nul\0"]) {
      const result = await deliverOnce({ url, body: "{}", headers: { "webhook-id": value }, timeoutMs: 5000, dispatcher, messages });
      assert.equal(result.outcome.kind, "refused", JSON.stringify(value));
      assert.match(result.error ?? "", /header webhook-id/);
    }
    assert.equal(seen, 0);
  });
});
