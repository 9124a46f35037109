// callback out's allowed origins, header values, proxy and TLS in a real Node-RED runtime
// (node-red-node-test-helper) with the core http proxy and tls-config config nodes, against real
// receivers, a forward proxy and TLS servers on 127.0.0.1.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type supertest from "supertest";
import callbackOut from "../../../nodes/callback-out";
import { makeTestPki, type TestPki } from "../../support/tls";
import { startHttpsReceiver } from "../../support/https-receiver";
import { ForwardProxy } from "../../support/forward-proxy";
import { nodeRedDir, nodeRedMain } from "../../support/node-red";
import { Receiver } from "../../support/receiver";

/** The part of node-red-node-test-helper used here (it ships no types). */
interface TestHelper {
  init(nodeRedPath: string): void;
  settings(settings: Record<string, unknown>): unknown;
  load(nodes: unknown[], flow: unknown[], credentials?: Record<string, unknown>): Promise<void>;
  unload(): Promise<void>;
  getNode(id: string): unknown;
  startServer(): Promise<void>;
  stopServer(): Promise<void>;
  request(): ReturnType<typeof supertest>;
  log(): { args: unknown[][] } & { getCalls(): Array<{ args: unknown[] }> };
}
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS module without type declarations, typed by the cast
const helper = require("node-red-node-test-helper") as TestHelper;
helper.init(nodeRedMain());

/** A core node of the Node-RED under test (NODE_RED_PACKAGE), by its file under @node-red/nodes/core. */
function coreNode(file: string): unknown {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- resolved at run time from the Node-RED under test
  return require(require.resolve(`@node-red/nodes/core/${file}`, { paths: [nodeRedDir()] }));
}
const coreNodes = [coreNode("common/25-catch.js"), coreNode("network/06-httpproxy.js"), coreNode("network/05-tls.js")];

interface Msg {
  payload?: unknown;
  statusCode?: number;
  error?: unknown;
  [key: string]: unknown;
}
interface HelperNode {
  on(event: string, handler: (msg: Msg) => void): void;
  receive(msg: Msg): void;
}

/** Resolves with the next msg a helper node gets. */
function next(id: string, timeoutMs = 20_000): Promise<Msg> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no msg on ${id}`)), timeoutMs);
    (helper.getNode(id) as HelperNode).on("input", (msg) => {
      clearTimeout(timer);
      resolve(msg);
    });
  });
}

function errorText(msg: Msg): string {
  return (msg.error as { message?: string } | undefined)?.message ?? String(msg.error);
}

/** Everything the node logged (error and warn), as text. */
function logged(): string {
  return helper
    .log()
    .getCalls()
    .map((call) => JSON.stringify(call.args[0]))
    .join("\n");
}

describe("callback out: allowed origins, header values, proxy and TLS", function () {
  this.timeout(60_000);
  let receiver: Receiver;
  let userDir: string;
  let certs: TestPki;
  let proxy: ForwardProxy;

  before(async () => {
    await helper.startServer();
    certs = makeTestPki();
    proxy = await new ForwardProxy().start();
  });
  after(async () => {
    await helper.stopServer();
    await proxy.stop();
    certs.cleanup();
  });
  beforeEach(async () => {
    userDir = mkdtempSync(path.join(tmpdir(), "co-reach-"));
    helper.settings({ userDir });
    receiver = await new Receiver().start();
    proxy.passed.length = 0;
  });
  afterEach(async () => {
    await helper.unload();
    await receiver.stop();
    rmSync(userDir, { recursive: true, force: true });
  });

  const credentials = { secret: "s3cret", token: "t0ken", signingKey: "k3y" };

  async function load(
    props: Record<string, unknown>,
    extra: unknown[] = [],
    creds: Record<string, unknown> = { out: credentials },
  ): Promise<HelperNode> {
    const flow = [
      { id: "f1", type: "tab" },
      {
        id: "out",
        type: "agent-callback-out",
        z: "f1",
        url: receiver.url,
        agentLoopId: "loop_reach",
        headers: [{ name: "X-Configured", value: "mine" }],
        signature: "hmac-sha256",
        retrySchedule: [],
        wires: [["delivered"], ["gaveUp"]],
        ...props,
      },
      { id: "catcher", type: "catch", z: "f1", scope: null, wires: [["caught"]] },
      { id: "delivered", type: "helper", z: "f1" },
      { id: "gaveUp", type: "helper", z: "f1" },
      { id: "caught", type: "helper", z: "f1" },
      ...extra,
    ];
    // Node-RED gives every node a credentials object, if empty; the helper only those listed.
    await helper.load([callbackOut, ...coreNodes], flow, { tls1: {}, px: {}, ...creds });
    return helper.getNode("out") as HelperNode;
  }

  function journalText(): string {
    const file = path.join(userDir, "agent-callback-outbox", "out.jsonl");
    return existsSync(file) ? readFileSync(file, "utf8") : "";
  }

  describe("allowed origins (node URL empty)", () => {
    it("refuses a msg.url whose origin is not listed, naming it, with nothing queued or sent", async () => {
      const out = await load({ url: "", allowedOrigins: ["https://hooks.example.com"] });
      const caught = next("caught");
      out.receive({ payload: "x", url: `${receiver.url}?token=1`, marker: "refused" });
      const msg = await caught;
      assert.match(errorText(msg), new RegExp(`origin http://127\\.0\\.0\\.1:${receiver.port} is not in the node's allowed origins`));
      assert.equal(msg.marker, "refused");
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(receiver.requests.length, 0);
      assert.doesNotMatch(journalText(), /"op":"add"/);
    });

    it("with the default (no origins), refuses every msg.url, e.g. the cloud metadata address", async () => {
      const out = await load({ url: "" });
      const caught = next("caught");
      out.receive({ payload: "x", url: "http://169.254.169.254/latest/meta-data/" });
      assert.match(errorText(await caught), /origin http:\/\/169\.254\.169\.254 is not in/);
    });

    it("sends to a listed origin (compared normalised) with the credentials, the signature and the node's headers", async () => {
      const out = await load({ url: "", allowedOrigins: [`HTTP://127.0.0.1:${receiver.port}/`] });
      const delivered = next("delivered");
      out.receive({ payload: "x", url: `${receiver.url}?from=msg` });
      assert.equal((await delivered).statusCode, 200);
      const { headers, path: requestPath } = receiver.requests[0]!;
      assert.equal(requestPath, "/agent-results?from=msg");
      assert.equal(headers["x-webhook-secret"], "s3cret");
      assert.equal(headers.authorization, "Bearer t0ken");
      assert.match(String(headers["x-signature"]), /^sha256=/);
      assert.equal(headers["x-configured"], "mine");
    });

    it("* sends to any origin but without credentials, signature or the node's headers; a listed origin still gets them", async () => {
      const out = await load({ url: "", allowedOrigins: ["*", `http://localhost:${receiver.port}`] });
      let delivered = next("delivered");
      out.receive({ payload: "bare", url: receiver.url });
      await delivered;
      const bare = receiver.requests[0]!.headers;
      for (const name of ["x-webhook-secret", "authorization", "x-signature", "x-configured"]) assert.equal(bare[name], undefined, name);
      assert.equal(bare["content-type"], "application/json");
      assert.match(String(bare["user-agent"]), /^node-red-contrib-agent-callback\//);
      delivered = next("delivered");
      out.receive({ payload: "listed", url: `http://localhost:${receiver.port}/agent-results` });
      await delivered;
      assert.equal(receiver.requests[1]!.headers["x-webhook-secret"], "s3cret");
      assert.equal(receiver.requests[1]!.headers["x-configured"], "mine");
    });

    it("an allowed origin that is not one is a configuration error naming the line", async () => {
      const out = await load({ url: "", allowedOrigins: ["https://hooks.example.com/path"] });
      const caught = next("caught");
      out.receive({ payload: "x", url: receiver.url });
      assert.match(errorText(await caught), /Allowed origins: "https:\/\/hooks\.example\.com\/path"/);
    });
  });

  describe("header values a request cannot carry", () => {
    it("a configured header whose ${ENV} value holds a line break is a configuration error at deploy", async () => {
      process.env.AGENT_CALLBACK_TEST_NL = "a\r\nX-Injected: 1";
      try {
        const out = await load({ headers: [{ name: "X-From-Env", value: "${AGENT_CALLBACK_TEST_NL}" }] });
        assert.match(logged(), /X-From-Env/);
        const caught = next("caught");
        out.receive({ payload: "x" });
        assert.match(errorText(await caught), /X-From-Env/);
        assert.equal(receiver.requests.length, 0);
      } finally {
        delete process.env.AGENT_CALLBACK_TEST_NL;
      }
    });

    it("a bearer token outside Latin-1 is a configuration error naming the field", async () => {
      const out = await load({}, [], { out: { token: "tok€n", signingKey: "k" } });
      const caught = next("caught");
      out.receive({ payload: "x" });
      assert.match(errorText(await caught), /Bearer token: holds a character/);
      assert.equal(receiver.requests.length, 0);
    });

    it("with Standard Webhooks, an execution_id that cannot be the webhook-id header is refused when the msg arrives", async () => {
      const out = await load({ signature: "standard-webhooks" }, [], {
        out: { signingKey: `whsec_${Buffer.alloc(32, 7).toString("base64")}` },
      });
      const caught = next("caught");
      out.receive({ payload: { agent_loop_id: "l", execution_id: "exec_☃", status: "completed" } });
      assert.match(errorText(await caught), /execution_id "exec_☃" cannot be sent as the webhook-id header/);
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(receiver.requests.length, 0);
      assert.doesNotMatch(journalText(), /"op":"add"/);
    });
  });

  describe("proxy", () => {
    const proxyNode = (url: string, noproxy: string[] = []): unknown => ({ id: "px", type: "http proxy", url, noproxy });

    it("goes through the http proxy config node, with its user name and password", async () => {
      const out = await load({ proxy: "px" }, [proxyNode(proxy.url)], { out: credentials, px: { username: "pu", password: "pp" } });
      const delivered = next("delivered");
      out.receive({ payload: "via proxy" });
      assert.equal((await delivered).statusCode, 200);
      assert.equal(proxy.passed.length, 1);
      assert.equal(proxy.passed[0]?.target, receiver.url);
      assert.equal(proxy.passed[0]?.proxyAuthorization, `Basic ${Buffer.from("pu:pp").toString("base64")}`);
    });

    it("uses HTTP_PROXY from the environment, and not for hosts in NO_PROXY", async () => {
      process.env.HTTP_PROXY = proxy.url;
      try {
        let out = await load({});
        let delivered = next("delivered");
        out.receive({ payload: "env proxy" });
        await delivered;
        assert.equal(proxy.passed.length, 1);
        await helper.unload();
        process.env.NO_PROXY = "127.0.0.1";
        out = await load({});
        delivered = next("delivered");
        out.receive({ payload: "direct" });
        await delivered;
        assert.equal(proxy.passed.length, 1);
        assert.equal(receiver.requests.length, 2);
      } finally {
        delete process.env.HTTP_PROXY;
        delete process.env.NO_PROXY;
      }
    });

    it("never logs the user name and password of a proxy URL it refuses (HTTP_PROXY=socks5://user:password@host)", async () => {
      process.env.HTTP_PROXY = "socks5://alice-user:pw-Xq7@secret@127.0.0.1:1080";
      try {
        const out = await load({});
        const caught = next("caught");
        out.receive({ payload: "x" });
        const error = errorText(await caught);
        const text = `${logged()}\n${error}`;
        assert.match(text, /not an http:\/\/ or https:\/\/ proxy URL/);
        assert.match(text, /socks5:\/\/\*\*\*@127\.0\.0\.1:1080/);
        for (const secret of ["alice-user", "pw-Xq7", "secret@"]) assert.ok(!text.includes(secret), `${secret} is not shown: ${text}`);
      } finally {
        delete process.env.HTTP_PROXY;
      }
    });

    it("a proxy config node that is not deployed is a configuration error", async () => {
      const out = await load({ proxy: "nowhere" });
      const caught = next("caught");
      out.receive({ payload: "x" });
      assert.match(errorText(await caught), /Proxy: the http proxy configuration nowhere is not deployed/);
    });
  });

  describe("TLS", () => {
    const tlsNode = (props: Record<string, unknown>): unknown => ({
      id: "tls1",
      type: "tls-config",
      cert: "",
      key: "",
      ca: "",
      verifyservercert: true,
      ...props,
    });

    it("delivers to an HTTPS receiver of a private CA given in the tls-config node, and not without it", async () => {
      const https = await startHttpsReceiver(certs, false);
      try {
        let out = await load({ url: https.url });
        const gaveUp = next("gaveUp");
        out.receive({ payload: "no CA" });
        assert.match(errorText(await gaveUp), /certificate/i);
        await helper.unload();
        out = await load({ url: https.url, tls: "tls1" }, [tlsNode({ ca: certs.files.ca })]);
        const delivered = next("delivered");
        out.receive({ payload: "with CA" });
        assert.deepEqual((await delivered).payload, { tls: true });
      } finally {
        https.server.close();
      }
    });

    it("presents the client certificate of the tls-config node (mutual TLS), in send test too", async () => {
      const https = await startHttpsReceiver(certs, true);
      try {
        const out = await load({ url: https.url, tls: "tls1" }, [
          tlsNode({
            ca: certs.files.ca,
            cert: certs.files.clientCert,
            key: certs.files.clientKey,
          }),
        ]);
        const delivered = next("delivered");
        out.receive({ payload: "mtls" });
        assert.equal((await delivered).statusCode, 200);
        const res = await helper.request().post("/agent-callback-out/out/test").expect(200);
        assert.equal((res.body as { statusCode?: number }).statusCode, 200);
        assert.deepEqual(https.seen, ["agent platform", "agent platform"]);
      } finally {
        https.server.close();
      }
    });

    it("does not verify the server only when the tls-config node says so, and logs a warning", async () => {
      const https = await startHttpsReceiver(certs, false);
      try {
        const out = await load({ url: https.url, tls: "tls1" }, [tlsNode({ verifyservercert: false })]);
        assert.match(logged(), /server certificate is not verified/);
        const delivered = next("delivered");
        out.receive({ payload: "unverified" });
        assert.equal((await delivered).statusCode, 200);
      } finally {
        https.server.close();
      }
    });
  });
});
