// listen settings as read from the flow JSON, a tls-config node's options for a server, and the
// endpoint URL shown in the status.
import assert from "node:assert/strict";
import { endpointUrl, listenSettings, tlsFromConfig, type TlsConfigNode } from "../../../nodes/lib/receive/listen";

function tlsNode(options: Record<string, unknown>, valid = true): TlsConfigNode {
  return { valid, addTLSOptions: (opts) => Object.assign(opts, options) };
}

describe("lib/receive/listen", () => {
  it("defaults: Node-RED's server, port 8443 on all addresses, no TLS", () => {
    assert.deepEqual(listenSettings({}), { mode: "node-red", port: 8443, host: "0.0.0.0", tlsId: "" });
    assert.deepEqual(listenSettings({ listen: "port", port: "9443", host: " 127.0.0.1 ", tls: "t1" }), {
      mode: "port",
      port: 9443,
      host: "127.0.0.1",
      tlsId: "t1",
    });
  });

  it("a bad port is replaced by the default with a problem naming the field; a bad host by the default address", () => {
    for (const port of ["0", "70000", "1.5", "x", -1]) {
      const read = listenSettings({ listen: "port", port });
      assert.equal(read.port, 8443, String(port));
      assert.deepEqual(read.portProblem, { field: "port", value: String(port), fallback: 8443 });
    }
    assert.equal(listenSettings({ host: "a b" }).host, "0.0.0.0");
    assert.equal(listenSettings({ host: "::" }).host, "::");
  });

  it("reads a tls-config node: missing, unreadable, without certificate, plain TLS and mutual TLS", () => {
    assert.deepEqual(tlsFromConfig(null), { ok: false, problem: "tls-missing" });
    assert.deepEqual(tlsFromConfig(tlsNode({}, false)), { ok: false, problem: "tls-invalid" });
    assert.deepEqual(tlsFromConfig(tlsNode({ key: "K" })), { ok: false, problem: "tls-no-cert" });
    assert.deepEqual(tlsFromConfig(tlsNode({ key: "K", cert: "C", rejectUnauthorized: true })), {
      ok: true,
      tls: { key: "K", cert: "C", requestCert: false },
    });
    assert.deepEqual(tlsFromConfig(tlsNode({ key: "K", cert: "C", ca: "A", rejectUnauthorized: false, passphrase: "p" })), {
      ok: true,
      tls: { key: "K", cert: "C", ca: "A", passphrase: "p", requestCert: false },
    });
    assert.deepEqual(tlsFromConfig(tlsNode({ key: "K", cert: "C", ca: "A", rejectUnauthorized: true })), {
      ok: true,
      tls: { key: "K", cert: "C", ca: "A", requestCert: true },
    });
  });

  it("endpoint URL: scheme by TLS, IPv6 literals in brackets", () => {
    const settings = listenSettings({ listen: "port", port: 9443, host: "::1" });
    assert.equal(endpointUrl(settings, true, "/hook"), "https://[::1]:9443/hook");
    assert.equal(endpointUrl(listenSettings({ listen: "port", host: "10.0.0.2" }), false, "/a"), "http://10.0.0.2:8443/a");
  });
});
