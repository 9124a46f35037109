import assert from "node:assert/strict";
import type { Dispatcher } from "undici";
import { deliverOnce, type DeliveryResult } from "../../../nodes/lib/send/deliver";
import {
  createNetworkDispatcher,
  proxyFromConfigNode,
  proxyUrl,
  tlsFromConfigNode,
  type NetworkSettings,
} from "../../../nodes/lib/send/network";
import { deliveryMessages as messages } from "../../support/delivery-messages";
import { makeTestPki, type TestPki } from "../../support/tls";
import { startHttpsReceiver } from "../../support/https-receiver";
import { ForwardProxy } from "../../support/forward-proxy";
import { Receiver } from "../../support/receiver";

const message = (key: string, substitutions?: Record<string, string | number>): string => `${key} ${JSON.stringify(substitutions ?? {})}`;

describe("lib/network", function () {
  this.timeout(30_000);
  let certs: TestPki;
  let receiver: Receiver;
  let proxy: ForwardProxy;
  let otherProxy: ForwardProxy;
  const dispatchers: Dispatcher[] = [];

  function post(url: string, settings: NetworkSettings, env: Record<string, string> = {}): Promise<DeliveryResult> {
    const dispatcher = createNetworkDispatcher(2, settings, env, message);
    dispatchers.push(dispatcher);
    return deliverOnce({
      url,
      body: '{"a":1}',
      headers: { "Content-Type": "application/json", "X-Secret": "s3" },
      timeoutMs: 10_000,
      dispatcher,
      messages,
    });
  }

  before(async () => {
    certs = makeTestPki();
    receiver = await new Receiver().start();
    proxy = await new ForwardProxy().start();
    otherProxy = await new ForwardProxy().start();
  });
  beforeEach(() => {
    proxy.passed.length = 0;
    otherProxy.passed.length = 0;
    receiver.requests.length = 0;
  });
  after(async () => {
    await Promise.all(dispatchers.map((d) => d.destroy().catch(() => undefined)));
    await Promise.all([receiver.stop(), proxy.stop(), otherProxy.stop()]);
    certs.cleanup();
  });

  describe("proxies", () => {
    it("forwards an http:// callback through the proxy config node, with its credentials as Proxy-Authorization", async () => {
      const result = await post(receiver.url, { proxy: { url: proxy.url, noProxy: [], username: "user", password: "p:w" } });
      assert.equal(result.statusCode, 200);
      assert.equal(proxy.passed.length, 1);
      assert.equal(proxy.passed[0]?.method, "POST");
      assert.equal(proxy.passed[0]?.target, receiver.url);
      assert.equal(proxy.passed[0]?.proxyAuthorization, `Basic ${Buffer.from("user:p:w").toString("base64")}`);
      assert.equal(receiver.requests[0]?.body, '{"a":1}');
      assert.equal(receiver.requests[0]?.headers["x-secret"], "s3");
      assert.equal(receiver.requests[0]?.headers["proxy-authorization"], undefined);
    });

    it("tunnels an https:// callback through the proxy with CONNECT, TLS to the receiver inside", async () => {
      const https = await startHttpsReceiver(certs, false);
      try {
        const result = await post(https.url, { proxy: { url: proxy.url, noProxy: [] }, tls: { ca: certs.ca } });
        assert.equal(result.statusCode, 200, result.error);
        assert.deepEqual(
          proxy.passed.map((p) => [p.method, p.target]),
          [["CONNECT", new URL(https.url).host]],
        );
      } finally {
        https.server.close();
      }
    });

    it("honours HTTP_PROXY and http_proxy from the environment", async () => {
      for (const name of ["HTTP_PROXY", "http_proxy"]) {
        proxy.passed.length = 0;
        const result = await post(receiver.url, {}, { [name]: proxy.url });
        assert.equal(result.statusCode, 200, name);
        assert.equal(proxy.passed.length, 1, name);
      }
    });

    it("honours HTTPS_PROXY and https_proxy for https:// callbacks; a proxy URL without scheme is http://", async () => {
      const https = await startHttpsReceiver(certs, false);
      try {
        for (const [name, value] of [
          ["HTTPS_PROXY", proxy.url],
          ["https_proxy", `127.0.0.1:${proxy.port}`],
        ] as const) {
          proxy.passed.length = 0;
          const result = await post(https.url, { tls: { ca: certs.ca } }, { [name]: value });
          assert.equal(result.statusCode, 200, `${name}: ${result.error}`);
          assert.equal(proxy.passed[0]?.method, "CONNECT", name);
        }
      } finally {
        https.server.close();
      }
    });

    it("goes direct to hosts in NO_PROXY / no_proxy and in the config node's no-proxy list", async () => {
      const envs: Array<Record<string, string>> = [
        { HTTP_PROXY: proxy.url, NO_PROXY: "127.0.0.1" },
        { http_proxy: proxy.url, no_proxy: `example.com,127.0.0.1:${receiver.port}` },
      ];
      for (const env of envs) {
        const result = await post(receiver.url, {}, env);
        assert.equal(result.statusCode, 200);
      }
      const result = await post(receiver.url, { proxy: { url: proxy.url, noProxy: ["127.0.0.1"] } });
      assert.equal(result.statusCode, 200);
      assert.equal(proxy.passed.length, 0);
      assert.equal(receiver.requests.length, 3);
    });

    it("the proxy config node wins over the environment, NO_PROXY included", async () => {
      const result = await post(
        receiver.url,
        { proxy: { url: proxy.url, noProxy: [] } },
        { HTTP_PROXY: otherProxy.url, NO_PROXY: "127.0.0.1" },
      );
      assert.equal(result.statusCode, 200);
      assert.equal(proxy.passed.length, 1);
      assert.equal(otherProxy.passed.length, 0);
    });

    it("without a proxy config node or proxy variables, goes direct", async () => {
      const result = await post(receiver.url, {}, { NO_PROXY: "example.com" });
      assert.equal(result.statusCode, 200);
      assert.equal(proxy.passed.length + otherProxy.passed.length, 0);
    });

    it("reads the core http proxy config node and refuses a proxy URL that is not one", () => {
      assert.deepEqual(
        proxyFromConfigNode(
          { url: "http://proxy:3128", noproxy: ["a.example", "", 3], credentials: { username: "u", password: "" } },
          message,
        ),
        { url: "http://proxy:3128", noProxy: ["a.example"], username: "u" },
      );
      assert.equal(proxyUrl(" proxy.corp:8080 ", message), "http://proxy.corp:8080");
      assert.throws(() => proxyFromConfigNode({ url: "" }, message), /errors\.bad-proxy-url/);
      assert.throws(() => proxyUrl("socks5://proxy:1080", message), /errors\.bad-proxy-url/);
      assert.throws(() => createNetworkDispatcher(1, {}, { HTTPS_PROXY: "ftp://proxy" }, message), /errors\.bad-proxy-url/);
    });
  });

  describe("TLS", () => {
    it("a receiver with a certificate of a private CA is refused without the CA and accepted with it", async () => {
      const https = await startHttpsReceiver(certs, false);
      try {
        const without = await post(https.url, {});
        assert.equal(without.outcome.kind, "network");
        assert.match(without.error ?? "", /certificate/i);
        const other = await post(https.url, { tls: { ca: certs.otherCa } });
        assert.equal(other.outcome.kind, "network");
        const withCa = await post(https.url, { tls: { ca: certs.ca, rejectUnauthorized: true } });
        assert.equal(withCa.statusCode, 200, withCa.error);
        const unverified = await post(https.url, { tls: { rejectUnauthorized: false } });
        assert.equal(unverified.statusCode, 200, unverified.error);
      } finally {
        https.server.close();
      }
    });

    it("a receiver that requires a client certificate refuses a callback without one and takes it with one", async () => {
      const https = await startHttpsReceiver(certs, true);
      try {
        const without = await post(https.url, { tls: { ca: certs.ca } });
        assert.equal(without.outcome.kind, "network");
        assert.equal(https.seen.length, 0);
        const withCert = await post(https.url, { tls: { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey } });
        assert.equal(withCert.statusCode, 200, withCert.error);
        assert.deepEqual(https.seen, ["agent platform"]);
        // Through a proxy too: the client certificate is presented inside the CONNECT tunnel.
        const proxied = await post(https.url, {
          proxy: { url: proxy.url, noProxy: [] },
          tls: { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey },
        });
        assert.equal(proxied.statusCode, 200, proxied.error);
        assert.equal(proxy.passed[0]?.method, "CONNECT");
      } finally {
        https.server.close();
      }
    });

    it("reads a tls-config node: verification stays on unless the node turns it off; ALPN is left to undici; unreadable files are an error", () => {
      const node = (verify: boolean | undefined, valid = true): Parameters<typeof tlsFromConfigNode>[0] => ({
        valid,
        verifyservercert: verify,
        addTLSOptions: (opts) =>
          Object.assign(opts, { ca: "CA", cert: "CERT", key: "KEY", servername: "", ALPNProtocols: ["h2"], rejectUnauthorized: verify }),
      });
      assert.deepEqual(tlsFromConfigNode(node(true), "t1", message), { ca: "CA", cert: "CERT", key: "KEY", rejectUnauthorized: true });
      assert.equal(tlsFromConfigNode(node(undefined), "t1", message).rejectUnauthorized, true);
      assert.equal(tlsFromConfigNode(node(false), "t1", message).rejectUnauthorized, false);
      assert.throws(() => tlsFromConfigNode(node(true, false), "t1", message), /errors\.tls-invalid.*t1/);
    });
  });
});
