import assert from "node:assert/strict";
import { readReach } from "../../../nodes/lib/send/reach";

const message = (key: string, substitutions?: Record<string, string | number>): string => `${key} ${JSON.stringify(substitutions ?? {})}`;

const tlsNode = (verify: boolean, valid = true): unknown => ({
  valid,
  addTLSOptions: (opts: Record<string, unknown>) => Object.assign(opts, { ca: "CA", rejectUnauthorized: verify }),
});

describe("lib/reach", () => {
  const nodes: Record<string, unknown> = {
    px: { url: "http://proxy.corp:3128", noproxy: ["intranet"], credentials: { username: "u", password: "p" } },
    tv: tlsNode(true),
    tu: tlsNode(false),
    tb: tlsNode(true, false),
  };
  const getNode = (id: string): unknown => nodes[id] ?? null;

  it("defaults: no allowed origins, no proxy config node, no TLS options", () => {
    const reach = readReach({}, getNode, {}, message);
    assert.deepEqual(reach.origins.list, []);
    assert.deepEqual(reach.network, {});
    assert.deepEqual(reach.warnings, []);
  });

  it("reads the allowed origins, the proxy config node and the tls-config node", () => {
    const reach = readReach({ allowedOrigins: ["https://A.example", "*"], proxy: "px", tls: "tv" }, getNode, {}, message);
    assert.deepEqual(reach.origins.list, ["https://a.example", "*"]);
    assert.deepEqual(reach.network, {
      proxy: { url: "http://proxy.corp:3128", noProxy: ["intranet"], username: "u", password: "p" },
      tls: { ca: "CA", rejectUnauthorized: true },
    });
    assert.deepEqual(reach.warnings, []);
  });

  it("warns when the tls-config node does not verify the server certificate", () => {
    const reach = readReach({ tls: "tu" }, getNode, {}, message);
    assert.equal(reach.network.tls?.rejectUnauthorized, false);
    assert.deepEqual(reach.warnings, ["errors.tls-unverified {}"]);
  });

  it("names a config node that is not deployed, a tls-config that could not read its files, and a bad origin", () => {
    assert.throws(() => readReach({ proxy: "gone" }, getNode, {}, message), /errors\.proxy-missing \{"id":"gone"\}/);
    assert.throws(() => readReach({ tls: "gone" }, getNode, {}, message), /errors\.tls-missing \{"id":"gone"\}/);
    assert.throws(() => readReach({ tls: "tb" }, getNode, {}, message), /errors\.tls-invalid \{"id":"tb"\}/);
    assert.throws(() => readReach({ allowedOrigins: ["https://a.example/x"] }, getNode, {}, message), /errors\.bad-origin/);
    assert.throws(() => readReach({}, getNode, { https_proxy: "socks5://proxy:1080" }, message), /errors\.bad-proxy-url/);
    readReach({ proxy: "px" }, getNode, { https_proxy: "socks5://ignored" }, message);
  });
});
