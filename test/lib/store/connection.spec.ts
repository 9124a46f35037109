import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createServer } from "node:net";
import path from "node:path";
import { StoreConnection, StoreUnavailableError, type StoreState } from "../../../nodes/lib/store/connection";
import { StoreScript } from "../../../nodes/lib/store/script";
import { freePort, repoRoot } from "../../support/node-red";
import { RedisServer } from "../../support/redis-server";
import { makeTestPki } from "../../support/tls";

function waitForState(connection: StoreConnection, state: StoreState, timeoutMs = 10_000): Promise<void> {
  if (connection.state === state) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`store still ${connection.state}, not ${state}`)), timeoutMs);
    const stop = connection.onChange((now) => {
      if (now !== state) return;
      clearTimeout(timer);
      stop();
      resolve();
    });
  });
}

describe("lib/store/connection (real redis-server)", () => {
  const redis = new RedisServer();
  before(() => redis.start());
  after(async () => {
    await redis.stop();
    redis.cleanup();
  });

  it("does not load the client package when the plugin's nodes load without a store", () => {
    const script = `
      const RED = { nodes: { createNode() {}, registerType() {}, getNode() { return null } }, settings: {}, _: (k) => k,
        httpAdmin: { post() {}, get() {} }, auth: { needsPermission: () => (q, s, n) => n() }, util: {}, log: { warn() {} }, events: { on() {} } };
      for (const file of ["callback-in", "callback-out", "callback-store"]) {
        const mod = require("./dist/nodes/" + file + ".js");
        (mod.default || mod)(RED);
      }
      const loaded = Object.keys(require.cache).filter((f) => f.includes("@redis"));
      process.stdout.write(JSON.stringify(loaded));
    `;
    const run = spawnSync(process.execPath, ["-e", script], { cwd: repoRoot, encoding: "utf8" });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), []);
    assert.ok(path.isAbsolute(repoRoot));
  });

  it("connects, runs commands and scripts, and reports ready", async () => {
    const connection = new StoreConnection({ url: redis.url, prefix: "t1:" });
    try {
      await waitForState(connection, "ready");
      assert.equal(await connection.sendCommand(["SET", connection.key("a"), "1"]), "OK");
      assert.equal(await connection.sendCommand(["GET", "t1:a"]), "1");
      const script = new StoreScript("return ARGV[1] .. KEYS[1]");
      assert.equal(await script.run(connection, ["k"], ["v"]), "vk");
      assert.equal(await script.run(connection, ["k"], ["w"]), "wk", "second run by sha");
    } finally {
      await connection.close();
    }
  });

  it("fails commands at once with StoreUnavailableError while the store is down, and recovers", async () => {
    const down = new RedisServer();
    down.port = await freePort();
    const connection = new StoreConnection({ url: `redis://127.0.0.1:${down.port}`, prefix: "t2:" });
    try {
      await waitForState(connection, "down");
      assert.match(connection.lastError, /ECONNREFUSED|connect/i);
      await assert.rejects(connection.sendCommand(["PING"]), StoreUnavailableError);
      await down.start();
      await waitForState(connection, "ready");
      assert.equal(await connection.sendCommand(["PING"]), "PONG");
      await down.stop();
      await waitForState(connection, "down");
      await assert.rejects(connection.sendCommand(["PING"]), StoreUnavailableError);
    } finally {
      await connection.close();
      await down.stop();
      down.cleanup();
    }
  });

  it("reports a server's reply error as it is (not as unreachable)", async () => {
    const connection = new StoreConnection({ url: redis.url, prefix: "t3:" });
    try {
      await waitForState(connection, "ready");
      await connection.sendCommand(["SET", "t3:s", "x"]);
      await assert.rejects(connection.sendCommand(["HGET", "t3:s", "f"]), (err: Error) => {
        assert.ok(!(err instanceof StoreUnavailableError));
        assert.match(err.message, /WRONGTYPE/);
        return true;
      });
    } finally {
      await connection.close();
    }
  });

  it("authenticates with username and password from the credentials", async () => {
    const connection = new StoreConnection({ url: redis.url, prefix: "t4:" });
    await waitForState(connection, "ready");
    await connection.sendCommand(["ACL", "SETUSER", "flows", "on", ">s3cret", "~*", "+@all"]);
    await connection.close();
    const good = new StoreConnection({ url: redis.url, prefix: "t4:", username: "flows", password: "s3cret" });
    const bad = new StoreConnection({ url: redis.url, prefix: "t4:", username: "flows", password: "wrong" });
    try {
      await waitForState(good, "ready");
      assert.equal(await good.sendCommand(["ACL", "WHOAMI"]), "flows");
      await waitForState(bad, "down");
      assert.doesNotMatch(bad.lastError, /wrong/);
    } finally {
      await good.close();
      await bad.close();
    }
  });

  it("stays down with the reason given in `refuse` and never opens a connection", async () => {
    const port = await freePort();
    let connections = 0;
    const listener = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(port, "127.0.0.1", resolve));
    const connection = new StoreConnection({ url: `redis://127.0.0.1:${port}`, prefix: "t5:", refuse: "fix the URL field" });
    try {
      assert.equal(connection.state, "down");
      assert.equal(connection.lastError, "fix the URL field");
      await assert.rejects(
        connection.sendCommand(["PING"]),
        (err: Error) => err instanceof StoreUnavailableError && /fix the URL field/.test(err.message),
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(connections, 0);
    } finally {
      await connection.close();
      await new Promise((resolve) => listener.close(resolve));
    }
  });

  it("reports a connection error as `explain` words it, in its state and in failed commands", async () => {
    const pki = makeTestPki();
    const other = makeTestPki();
    const tlsRedis = new RedisServer({ tls: { cert: pki.files.serverCert, key: pki.files.serverKey, ca: pki.files.ca } });
    const seen: string[] = [];
    const explain = (err: Error & { code?: unknown }): string | undefined => {
      seen.push(String(err.code));
      return err.code === "SELF_SIGNED_CERT_IN_CHAIN" ? `fix the CA (${err.message})` : undefined;
    };
    let connection: StoreConnection | undefined;
    let trusted: StoreConnection | undefined;
    try {
      await tlsRedis.start();
      connection = new StoreConnection({ url: tlsRedis.url, prefix: "t6:", tls: { ca: other.ca }, explain });
      await waitForState(connection, "down");
      assert.equal(connection.lastError, "fix the CA (self-signed certificate in certificate chain)");
      await assert.rejects(connection.sendCommand(["PING"]), /store unreachable: fix the CA/);
      trusted = new StoreConnection({ url: tlsRedis.url, prefix: "t6:", tls: { ca: pki.ca }, explain });
      await waitForState(trusted, "ready");
      assert.equal(await trusted.sendCommand(["PING"]), "PONG");
      assert.ok(seen.includes("SELF_SIGNED_CERT_IN_CHAIN"), seen.join());
    } finally {
      await connection?.close();
      await trusted?.close();
      await tlsRedis.stop();
      tlsRedis.cleanup();
      pki.cleanup();
      other.cleanup();
    }
  });

  it("shows a client certificate to a server that asks for one (mutual TLS)", async () => {
    const pki = makeTestPki();
    const client = { cert: pki.files.clientCert, key: pki.files.clientKey };
    const tlsRedis = new RedisServer({
      tls: { cert: pki.files.serverCert, key: pki.files.serverKey, ca: pki.files.ca, clientAuth: true, client },
    });
    let withCert: StoreConnection | undefined;
    let without: StoreConnection | undefined;
    try {
      await tlsRedis.start();
      withCert = new StoreConnection({ url: tlsRedis.url, prefix: "t7:", tls: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey } });
      await waitForState(withCert, "ready");
      assert.equal(await withCert.sendCommand(["PING"]), "PONG");
      without = new StoreConnection({ url: tlsRedis.url, prefix: "t7:", tls: { ca: pki.ca } });
      await waitForState(without, "down");
      await assert.rejects(without.sendCommand(["PING"]), StoreUnavailableError);
    } finally {
      await withCert?.close();
      await without?.close();
      await tlsRedis.stop();
      tlsRedis.cleanup();
      pki.cleanup();
    }
  });
});
