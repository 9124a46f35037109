// The own server without Node-RED: routes per path, 404 JSON for the rest, a shared server per
// host:port, port-in-use, TLS and mutual TLS, and closing that frees the port and cuts kept-alive
// connections.
import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import { OwnServers, type OwnServerSpec, type OwnEndpoint, type AttachResult } from "../../../nodes/lib/receive/own-server";
import { freePort } from "../../support/node-red";
import { makeTestPki, type TestPki } from "../../support/tls";
import { request } from "../../support/request";

function endpoint(result: AttachResult): OwnEndpoint {
  assert.ok(result.ok, `attach failed: ${JSON.stringify(result)}`);
  return result.endpoint;
}

const answer =
  (text: string) =>
  (req: http.IncomingMessage, res: http.ServerResponse): void => {
    req.resume();
    req.on("end", () => res.end(text));
  };

describe("own server (callback in on a port of its own)", function () {
  this.timeout(30_000);
  let servers: OwnServers;
  let port: number;
  let spec: OwnServerSpec;
  const open: OwnEndpoint[] = [];

  beforeEach(async () => {
    servers = new OwnServers();
    port = await freePort();
    spec = { host: "127.0.0.1", port, tlsId: "" };
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((e) => e.detach()));
  });
  const attach = (path: string, owner: string, text: string, s = spec): OwnEndpoint => {
    const e = endpoint(servers.attach(s, path, owner, answer(text)));
    open.push(e);
    return e;
  };

  it("serves two paths on one server and answers 404 JSON anywhere else, 405 for other methods", async () => {
    const a = attach("/a", "n1", "A");
    attach("/hooks/:name", "n2", "B");
    assert.deepEqual(await a.listening, { ok: true, port });
    assert.equal(servers.size, 1);
    const base = `http://127.0.0.1:${port}`;
    assert.equal((await request(`${base}/a`, { body: "{}" })).text, "A");
    assert.equal((await request(`${base}/A/`, { body: "{}" })).text, "A");
    assert.equal((await request(`${base}/hooks/x?y=1`, { body: "{}" })).text, "B");
    for (const path of ["/", "/flows", "/settings", "/red/red.min.js", "/hooks", "/hooks/x/y", "/auth/token"]) {
      const res = await request(base + path);
      assert.equal(res.status, 404, path);
      assert.deepEqual(JSON.parse(res.text), { error: "Not found" });
      assert.match(String(res.headers["content-type"]), /application\/json/);
    }
    const get = await request(`${base}/a`);
    assert.equal(get.status, 405);
    assert.equal(get.headers.allow, "POST");
  });

  it("answers 500 JSON when a handler throws, and keeps serving", async () => {
    const thrower = endpoint(
      servers.attach(spec, "/boom", "n1", () => {
        throw new Error("secret detail");
      }),
    );
    open.push(thrower);
    attach("/ok", "n2", "OK");
    await thrower.listening;
    const res = await request(`http://127.0.0.1:${port}/boom`, { body: "{}" });
    assert.equal(res.status, 500);
    assert.deepEqual(JSON.parse(res.text), { error: "Internal Server Error" });
    assert.equal((await request(`http://127.0.0.1:${port}/ok`, { body: "{}" })).text, "OK");
  });

  it("refuses a second node on the same path and a node with other TLS settings on the same port", async () => {
    attach("/a", "n1", "A");
    assert.deepEqual(servers.attach(spec, "/A/", "n2", answer("x")), { ok: false, reason: "duplicate-path" });
    assert.deepEqual(servers.attach({ ...spec, tlsId: "tls1" }, "/b", "n3", answer("x")), { ok: false, reason: "tls-mismatch" });
  });

  it("reports a port in use by another program, and works once it is free", async () => {
    const other = net.createServer();
    await new Promise<void>((resolve) => other.listen(port, "127.0.0.1", resolve));
    const e = attach("/a", "n1", "A");
    const outcome = await e.listening;
    assert.equal(outcome.ok, false);
    assert.equal(!outcome.ok && outcome.code, "EADDRINUSE");
    await e.detach();
    await new Promise<void>((resolve) => other.close(() => resolve()));
    const again = attach("/a", "n1", "A");
    assert.deepEqual(await again.listening, { ok: true, port });
  });

  it("closes when the last path leaves: kept-alive connections cut, the port free at once for the next server", async () => {
    const a = attach("/a", "n1", "A");
    const b = attach("/b", "n2", "B");
    await a.listening;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const base = `http://127.0.0.1:${port}`;
    assert.equal((await request(`${base}/b`, { body: "{}", agent })).text, "B");
    await a.detach();
    // The server stays for b, and so does b's kept-alive connection.
    const socketsBefore = Object.values(agent.freeSockets).flat();
    assert.equal(socketsBefore.length, 1);
    assert.equal((await request(`${base}/b`, { body: "{}", agent })).text, "B");
    assert.equal((await request(`${base}/a`, { body: "{}" })).status, 404);
    const socket = Object.values(agent.freeSockets).flat()[0];
    assert.ok(socket);
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    await b.detach();
    await closed;
    assert.equal(servers.size, 0);
    agent.destroy();
    const again = attach("/a", "n1", "A2");
    assert.deepEqual(await again.listening, { ok: true, port });
    assert.equal((await request(`${base}/a`, { body: "{}" })).text, "A2");
  });

  it("detaching and attaching again before the first bind settles still ends with one listening server", async () => {
    for (let i = 0; i < 20; i++) {
      const e = endpoint(servers.attach(spec, "/a", "n1", answer(String(i))));
      void e.detach();
    }
    const last = attach("/a", "n1", "last");
    assert.deepEqual(await last.listening, { ok: true, port });
    assert.equal((await request(`http://127.0.0.1:${port}/a`, { body: "{}" })).text, "last");
  });

  describe("TLS", () => {
    let pki: TestPki;
    before(() => (pki = makeTestPki()));
    after(() => pki.cleanup());

    it("serves HTTPS with the certificate and key", async () => {
      const e = attach("/a", "n1", "A", { ...spec, tlsId: "t", tls: { key: pki.serverKey, cert: pki.serverCert, requestCert: false } });
      assert.equal((await e.listening).ok, true);
      const res = await request(`https://127.0.0.1:${port}/a`, { body: "{}", ca: pki.ca });
      assert.equal(res.text, "A");
      await assert.rejects(request(`http://127.0.0.1:${port}/a`, { body: "{}" }));
    });

    it("with requestCert refuses a client without a certificate and accepts one signed by the CA", async () => {
      const tls = { key: pki.serverKey, cert: pki.serverCert, ca: pki.ca, requestCert: true };
      const e = attach("/a", "n1", "A", { ...spec, tlsId: "t", tls });
      assert.equal((await e.listening).ok, true);
      await assert.rejects(request(`https://127.0.0.1:${port}/a`, { body: "{}", ca: pki.ca }));
      const res = await request(`https://127.0.0.1:${port}/a`, { body: "{}", ca: pki.ca, cert: pki.clientCert, key: pki.clientKey });
      assert.equal(res.text, "A");
    });

    it("a key that does not match the certificate is a listen failure, not a throw", async () => {
      const other = makeTestPki();
      try {
        const e = attach("/a", "n1", "A", { ...spec, tlsId: "t", tls: { key: other.serverKey, cert: pki.serverCert, requestCert: false } });
        const outcome = await e.listening;
        assert.equal(outcome.ok, false);
        assert.equal(!outcome.ok && outcome.code, "ETLS");
      } finally {
        other.cleanup();
      }
    });
  });
});
