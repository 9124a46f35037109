// callback in inside a real Node-RED runtime (node-red-node-test-helper), over real HTTP on
// 127.0.0.1 via supertest against RED.httpNode.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Application } from "express";
import supertest from "supertest";
import { Webhook } from "standardwebhooks";
import callbackIn from "../../../nodes/callback-in";
import { samplePayload } from "../../../nodes/lib/shared/payload";
import { nodeRedDir } from "../../support/node-red";
import { helper } from "../../support/test-helper";

// The core http in/response nodes of the Node-RED under test (for respond: flow).
// eslint-disable-next-line @typescript-eslint/no-require-imports -- resolved at run time from the Node-RED under test (NODE_RED_PACKAGE)
const httpInNodes: unknown = require(require.resolve("@node-red/nodes/core/network/21-httpin.js", { paths: [nodeRedDir()] }));

interface Msg {
  payload?: unknown;
  topic?: unknown;
  req?: unknown;
  res?: unknown;
  [key: string]: unknown;
}
/** What arrived on each output: "completed", "failed", "timeout". */
class Outputs {
  readonly got: Array<{ output: string; msg: Msg }> = [];
  private waiters: Array<() => void> = [];
  constructor(ids: Record<string, string>) {
    for (const [output, id] of Object.entries(ids)) {
      helper.getNode<Msg>(id).on("input", (msg) => {
        this.got.push({ output, msg });
        for (const w of [...this.waiters]) w();
      });
    }
  }
  waitFor(n: number, timeoutMs = 20_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${n} msg(s), got ${this.got.length}`)), timeoutMs);
      const check = (): void => {
        if (this.got.length >= n) {
          clearTimeout(timer);
          this.waiters = this.waiters.filter((w) => w !== check);
          resolve();
        }
      };
      this.waiters.push(check);
      check();
    });
  }
}

const SECRET = "s3cret-value";
const PATH = "/agent-results";

function inNode(props: Record<string, unknown> = {}): Record<string, unknown> {
  return { id: "in", type: "agent-callback-in", url: PATH, verify: "secret", wires: [["c"], ["f"], ["t"]], ...props };
}
const sinks = [
  { id: "c", type: "helper" },
  { id: "f", type: "helper" },
  { id: "t", type: "helper" },
];

let app: Application;
const captureApp = (RED: { httpNode: Application }): void => {
  app = RED.httpNode;
};

async function load(props: Record<string, unknown> = {}, secret: string | null = SECRET, extra: unknown[] = []): Promise<Outputs> {
  await helper.load([captureApp, callbackIn, httpInNodes], [inNode(props), ...sinks, ...extra], { in: { secret: secret ?? "" } });
  return new Outputs({ completed: "c", failed: "f", timeout: "t" });
}

function body(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({ ...samplePayload(), ...overrides });
}

function post(raw: string | Buffer, headers: Record<string, string> = {}, path = PATH): supertest.Test {
  const request = supertest(app).post(path);
  request.set("Content-Type", "application/json");
  for (const [k, v] of Object.entries(headers)) request.set(k, v);
  // A string is sent as-is (UTF-8); superagent would JSON-serialise a Buffer given a JSON type.
  return request.send(typeof raw === "string" ? raw : raw.toString("utf8"));
}

function assertJsonReply(res: supertest.Response, status: number, expected?: unknown): void {
  assert.equal(res.status, status, `status (body: ${res.text})`);
  assert.match(String(res.headers["content-type"]), /^application\/json/);
  const parsed: unknown = JSON.parse(res.text);
  if (expected !== undefined) assert.deepEqual(parsed, expected);
  else assert.equal(typeof (parsed as { error?: unknown }).error, "string");
}

/** Proves nothing was emitted for earlier rejected requests: a valid one arrives alone. */
async function assertNothingEmittedBefore(outputs: Outputs, headers: Record<string, string>, id = "exec_barrier"): Promise<void> {
  const before = outputs.got.length;
  assertJsonReply(await post(body({ execution_id: id }), headers), 200, { received: true });
  await outputs.waitFor(before + 1);
  assert.equal(outputs.got.length, before + 1);
  assert.equal((outputs.got[before]?.msg.payload as { execution_id: string }).execution_id, id);
}

const hmacHex = (key: string, data: string | Buffer): string => createHmac("sha256", key).update(data).digest("hex");

describe("callback in node", function () {
  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(async () => {
    await helper.unload();
    helper.settings({});
  });

  it("accepts the seed's payload: 200 {received:true}, emits on output 1 with payload and topic", async () => {
    const outputs = await load();
    assertJsonReply(await post(body(), { "X-Webhook-Secret": SECRET }), 200, { received: true });
    await outputs.waitFor(1);
    assert.equal(outputs.got[0]?.output, "completed");
    assert.deepEqual(outputs.got[0]?.msg.payload, samplePayload());
    assert.equal(outputs.got[0]?.msg.topic, "Daily Sales Report");
    assert.equal(outputs.got[0]?.msg.req, undefined);
  });

  it("routes failed to output 2 and timeout to output 3, keeping unknown fields", async () => {
    const outputs = await load();
    const h = { "X-Webhook-Secret": SECRET };
    assertJsonReply(await post(body({ execution_id: "e1", status: "failed", result: null, error: "Tool call failed" }), h), 200, {
      received: true,
    });
    assertJsonReply(await post(body({ execution_id: "e2", status: "timeout", error: "Execution timeout", extra: { a: [1] } }), h), 200, {
      received: true,
    });
    await outputs.waitFor(2);
    assert.deepEqual(
      outputs.got.map((g) => g.output),
      ["failed", "timeout"],
    );
    assert.deepEqual((outputs.got[1]?.msg.payload as { extra: unknown }).extra, { a: [1] });
  });

  describe("verify: secret", () => {
    it("401 for a wrong, missing or near-miss secret; nothing emitted; the right one passes", async () => {
      const outputs = await load();
      // The status is updated shortly after requests (coalesced); watch it from the start.
      const counted = new Promise<void>((resolve) => {
        helper.getNode("in").on("call:status", (call) => {
          if (/^1 [^,]*, 4 /.test(String((call.args[0] as { text?: string }).text))) resolve();
        });
      });
      assertJsonReply(await post(body(), { "X-Webhook-Secret": "wrong" }), 401, { error: "Unauthorized" });
      assertJsonReply(await post(body(), {}), 401, { error: "Unauthorized" });
      assertJsonReply(await post(body(), { "X-Webhook-Secret": SECRET + "x" }), 401, { error: "Unauthorized" });
      assertJsonReply(await post(body(), { "X-Other": SECRET }), 401, { error: "Unauthorized" });
      await assertNothingEmittedBefore(outputs, { "X-Webhook-Secret": SECRET });
      // Logged once per cause (wrong, missing), not once per request; counted in the status.
      const warnings = helper.log().args.filter(([e]) => e.level === helper.log().WARN && e.id === "in");
      assert.equal(warnings.length, 2, JSON.stringify(warnings));
      await counted;
    });

    it("accepts every rotated secret and a custom header", async () => {
      const outputs = await load({ secretHeader: "Authorization" }, "old-secret\nnew-secret, newest");
      for (const [i, s] of ["old-secret", "new-secret", "newest"].entries()) {
        assertJsonReply(await post(body({ execution_id: `r${i}` }), { Authorization: s }), 200, { received: true });
      }
      assertJsonReply(await post(body({ execution_id: "r9" }), { "X-Webhook-Secret": "newest" }), 401, { error: "Unauthorized" });
      await outputs.waitFor(3);
    });

    it("never puts the secret in replies, logs or status", async () => {
      await load();
      const res = await post(body(), { "X-Webhook-Secret": "wrong" });
      assert.ok(!res.text.includes(SECRET));
      const logged = JSON.stringify(helper.log().args);
      assert.ok(!logged.includes(SECRET), "secret in logs");
    });

    it("with no secret configured: refuses every request and reports the field to fix", async () => {
      await load({}, null);
      assertJsonReply(await post(body(), { "X-Webhook-Secret": "" }), 401, { error: "Unauthorized" });
      assertJsonReply(await post(body(), { "X-Webhook-Secret": "anything" }), 401, { error: "Unauthorized" });
      const errors = helper.log().args.filter(([e]) => e.level === helper.log().ERROR && e.id === "in");
      assert.equal(errors.length, 1, JSON.stringify(helper.log().args));
      assert.match(String(errors[0]?.[0].msg), /errors\.no-secret|Secret/);
    });
  });

  describe("verify: signature", () => {
    // Unusual whitespace and non-ASCII: only a check over the exact bytes passes.
    const raw = Buffer.from(
      `{"agent_loop_id":"loop_1",  "execution_id":"sig_1",\n"status":"completed","agent_loop_name":"Caf\u00e9 \u2615"}`,
    );

    it("accepts sha256=<hex> of the raw bytes; refuses wrong, missing and re-serialised signatures", async () => {
      const outputs = await load({ verify: "signature" }, "hmac-key");
      assertJsonReply(await post(raw, { "X-Signature": `sha256=${hmacHex("other", raw)}` }), 401, { error: "Unauthorized" });
      assertJsonReply(await post(raw, {}), 401, { error: "Unauthorized" });
      const reserialised = JSON.stringify(JSON.parse(raw.toString()));
      assertJsonReply(await post(raw, { "X-Signature": `sha256=${hmacHex("hmac-key", reserialised)}` }), 401, { error: "Unauthorized" });
      assertJsonReply(await post(raw, { "X-Webhook-Secret": "hmac-key" }), 401, { error: "Unauthorized" });
      assert.equal(outputs.got.length, 0);
      assertJsonReply(await post(raw, { "X-Signature": `sha256=${hmacHex("hmac-key", raw)}` }), 200, { received: true });
      await outputs.waitFor(1);
      assert.equal(outputs.got.length, 1);
      assert.equal(outputs.got[0]?.msg.topic, "Caf\u00e9 \u2615");
    });

    it("accepts rotated keys", async () => {
      const outputs = await load({ verify: "signature" }, "k-old,k-new");
      const a = body({ execution_id: "a" });
      const b = body({ execution_id: "b" });
      assertJsonReply(await post(a, { "X-Signature": `sha256=${hmacHex("k-old", a)}` }), 200, { received: true });
      assertJsonReply(await post(b, { "X-Signature": `sha256=${hmacHex("k-new", b)}` }), 200, { received: true });
      await outputs.waitFor(2);
    });
  });

  describe("verify: standard-webhooks", () => {
    const key = "whsec_" + Buffer.from("a 24-byte test key here!").toString("base64");
    const other = "whsec_" + Buffer.from("another 24-byte test key").toString("base64");
    function signed(raw: string, k: string, at: Date, id = "msg_1"): Record<string, string> {
      return {
        "webhook-id": id,
        "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
        "webhook-signature": new Webhook(k).sign(id, at, raw),
      };
    }
    // The same vector computed by hand with node:crypto, to not trust one library alone.
    function signedByHand(raw: string, k: string, seconds: number, id: string): Record<string, string> {
      const mac = createHmac("sha256", Buffer.from(k.slice(6), "base64"))
        .update(`${id}.${seconds}.${raw}`)
        .digest("base64");
      return { "webhook-id": id, "webhook-timestamp": String(seconds), "webhook-signature": `v1,${mac}` };
    }

    it("accepts fresh signatures, refuses stale ones, wrong keys and missing headers", async () => {
      const outputs = await load({ verify: "standard-webhooks", tolerance: 300 }, key);
      const raw = body({ execution_id: "sw1" });
      const nowS = Math.floor(Date.now() / 1000);
      assertJsonReply(await post(raw, signedByHand(raw, key, nowS - 3600, "msg_stale")), 401, { error: "Unauthorized" });
      assertJsonReply(await post(raw, signed(raw, key, new Date(Date.now() + 3600_000))), 401, { error: "Unauthorized" });
      assertJsonReply(await post(raw, signed(raw, other, new Date())), 401, { error: "Unauthorized" });
      assertJsonReply(await post(raw, {}), 401, { error: "Unauthorized" });
      assert.equal(outputs.got.length, 0);
      assertJsonReply(await post(raw, signedByHand(raw, key, nowS, "msg_hand")), 200, { received: true });
      const raw2 = body({ execution_id: "sw2" });
      assertJsonReply(await post(raw2, signed(raw2, key, new Date())), 200, { received: true });
      await outputs.waitFor(2);
      assert.equal(outputs.got.length, 2);
    });

    it("accepts rotated keys", async () => {
      const outputs = await load({ verify: "standard-webhooks" }, `${other}\n${key}`);
      const raw = body({ execution_id: "rot" });
      assertJsonReply(await post(raw, signed(raw, key, new Date())), 200, { received: true });
      await outputs.waitFor(1);
    });
  });

  it("verify none accepts without credentials and warns on deploy", async () => {
    const outputs = await load({ verify: "none" }, null);
    assertJsonReply(await post(body(), {}), 200, { received: true });
    await outputs.waitFor(1);
    const warnings = helper.log().args.filter(([e]) => e.level === helper.log().WARN && e.id === "in");
    assert.ok(warnings.length >= 1);
  });

  describe("reply table", () => {
    const h = { "X-Webhook-Secret": SECRET };

    it("400 for a body that is not JSON, naming the body", async () => {
      const outputs = await load();
      const res = await post("{not json", h);
      assertJsonReply(res, 400);
      assert.match(JSON.parse(res.text).error, /^\(body\): expected JSON/);
      await assertNothingEmittedBefore(outputs, h);
    });

    it("400 naming the field and what is expected when the schema fails", async () => {
      const outputs = await load();
      const res = await post(body({ status: "done" }), h);
      assertJsonReply(res, 400, { error: "status: expected one of completed, failed, timeout" });
      const missing = await post(JSON.stringify({ agent_loop_id: "l", status: "completed" }), h);
      assertJsonReply(missing, 400);
      assert.match(JSON.parse(missing.text).error, /^execution_id: /);
      assertJsonReply(await post("[1,2]", h), 400);
      await assertNothingEmittedBefore(outputs, h);
    });

    it("authentication is checked before the body is parsed", async () => {
      await load();
      assertJsonReply(await post("{not json", { "X-Webhook-Secret": "wrong" }), 401, { error: "Unauthorized" });
    });

    it("413 for a body larger than maxBody (declared or streamed), 415 for a non-JSON type", async () => {
      const outputs = await load({ maxBody: 1 });
      const big = body({ padding: "x".repeat(2048) });
      assertJsonReply(await post(big, h), 413);
      // Chunked, with no Content-Length: the limit is enforced while reading.
      const address = await new Promise<AddressInfo>((resolve) => {
        const server = http.createServer(app).listen(0, "127.0.0.1", () => resolve(server.address() as AddressInfo));
        after(() => server.close());
      });
      const chunked = await new Promise<{ status: number; type: string; text: string }>((resolve, reject) => {
        const req = http.request(
          { host: "127.0.0.1", port: address.port, method: "POST", path: PATH, headers: { "Content-Type": "application/json", ...h } },
          (res) => {
            let text = "";
            res.on("data", (c: Buffer) => (text += c.toString()));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, type: String(res.headers["content-type"]), text }));
          },
        );
        req.on("error", reject);
        req.write(big.slice(0, 1000));
        req.end(big.slice(1000));
      });
      assert.equal(chunked.status, 413);
      assert.match(chunked.type, /^application\/json/);
      assert.equal(typeof JSON.parse(chunked.text).error, "string");

      const plain = await supertest(app).post(PATH).set(h).set("Content-Type", "text/plain").send(body());
      assertJsonReply(plain, 415);
      const none = await supertest(app).post(PATH).set(h).unset("Content-Type").send(Buffer.from(body()));
      assertJsonReply(none, 415);
      assertJsonReply(await post(body(), { ...h, "Content-Type": "application/json; charset=utf-8" }), 200, { received: true });
      await outputs.waitFor(1);
      assert.equal(outputs.got.length, 1);
    });

    it("429 with Retry-After over the rate limit, after a burst of rateLimit", async () => {
      const outputs = await load({ rateLimit: 3 });
      for (let i = 0; i < 3; i++) assertJsonReply(await post(body({ execution_id: `rl${i}` }), h), 200, { received: true });
      const limited = await post(body({ execution_id: "rl3" }), h);
      assertJsonReply(limited, 429);
      assert.ok(Number(limited.headers["retry-after"]) >= 1, "Retry-After in seconds");
      await outputs.waitFor(3);
      assert.equal(outputs.got.length, 3);
    });

    it("200 duplicate for a repeated execution_id, emitted once; dedupe off emits both", async () => {
      const outputs = await load();
      assertJsonReply(await post(body(), h), 200, { received: true });
      assertJsonReply(await post(body(), h), 200, { received: true, duplicate: true });
      await assertNothingEmittedBefore(outputs, h);
      assert.equal(outputs.got.length, 2);
      await helper.unload();
      const again = await load({ dedupe: false });
      assertJsonReply(await post(body(), h), 200, { received: true });
      assertJsonReply(await post(body(), h), 200, { received: true });
      await again.waitFor(2);
    });
  });

  it("respond: flow hands req/res to the flow and a core http response answers", async () => {
    const outputs = await load({ respond: "flow", wires: [["c", "resp"], ["f"], ["t"]] }, SECRET, [
      { id: "resp", type: "http response", statusCode: "202", headers: {} },
    ]);
    const h = { "X-Webhook-Secret": SECRET };
    const res = await post(body(), h);
    assert.equal(res.status, 202);
    assert.deepEqual(JSON.parse(res.text).execution_id, "exec_xyz789");
    await outputs.waitFor(1);
    assert.ok(outputs.got[0]?.msg.req, "msg.req set");
    // Rejections are still answered by the node itself.
    assertJsonReply(await post(body(), { "X-Webhook-Secret": "no" }), 401, { error: "Unauthorized" });
    assertJsonReply(await post(body(), h), 200, { received: true, duplicate: true });
  });

  it("redeploy replaces the route (not stacked) and applies the new settings", async () => {
    await load();
    const h = { "X-Webhook-Secret": SECRET };
    const routes = (): number =>
      (app as unknown as { _router: { stack: Array<{ route?: { path: string } }> } })._router.stack.filter((l) => l.route?.path === PATH)
        .length;
    assert.equal(routes(), 1);
    for (const secret of ["second", "third"]) {
      const started = new Promise<void>((resolve) => helper._events.once("flows:started", resolve));
      await helper._redNodes.setFlows([inNode(), ...sinks], { in: { secret } }, "full");
      await started;
      assert.equal(routes(), 1, "one route after redeploy");
    }
    assertJsonReply(await post(body(), h), 401, { error: "Unauthorized" });
    assertJsonReply(await post(body({ execution_id: "after-redeploys" }), { "X-Webhook-Secret": "third" }), 200, { received: true });
    // Moving the node to another path frees the old one.
    const started = new Promise<void>((resolve) => helper._events.once("flows:started", resolve));
    await helper._redNodes.setFlows([inNode({ url: "/moved" }), ...sinks], { in: { secret: "third" } }, "full");
    await started;
    assert.equal(routes(), 0);
    assert.equal((await post(body(), { "X-Webhook-Secret": "third" })).status, 404);
    assertJsonReply(await post(body(), { "X-Webhook-Secret": "third" }, "/moved"), 200, { received: true });
  });

  it("a redeploy keeps the ids already seen (a retry after the deploy is a duplicate); removing the node forgets them", async () => {
    const outputs = await load();
    const h = { "X-Webhook-Secret": SECRET };
    assertJsonReply(await post(body({ execution_id: "before-deploy" }), h), 200, { received: true });
    await outputs.waitFor(1);
    const deploy = async (flow: unknown[]): Promise<void> => {
      const started = new Promise<void>((resolve) => helper._events.once("flows:started", resolve));
      await helper._redNodes.setFlows(flow, { in: { secret: SECRET } }, "full");
      await started;
    };
    // A full deploy with a changed setting restarts the node.
    await deploy([inNode({ dedupeTtl: 3600 }), ...sinks]);
    assertJsonReply(await post(body({ execution_id: "before-deploy" }), h), 200, { received: true, duplicate: true });
    // Removed, then added again: a new node with a fresh memory.
    await deploy([...sinks]);
    await deploy([inNode(), ...sinks]);
    assertJsonReply(await post(body({ execution_id: "before-deploy" }), h), 200, { received: true });
  });

  it("a second node on the same path reports a clear error on deploy and the first keeps working", async () => {
    await helper.load([captureApp, callbackIn], [inNode(), { ...inNode({ id: "in2", url: "/agent-results/" }) }, ...sinks], {
      in: { secret: SECRET },
      in2: { secret: "other" },
    });
    const errors = helper.log().args.filter(([e]) => e.level === helper.log().ERROR && e.id === "in2");
    assert.equal(errors.length, 1, JSON.stringify(helper.log().args));
    assert.match(String(errors[0]?.[0].msg), /duplicate-path|already/);
    assertJsonReply(await post(body(), { "X-Webhook-Secret": SECRET }), 200, { received: true });
  });

  it("a bad number in the flow falls back to the default and warns naming the field", async () => {
    const outputs = await load({ maxBody: "lots", rateLimit: -5 });
    const warnings = helper
      .log()
      .args.filter(([e]) => e.level === helper.log().WARN && e.id === "in")
      .map(([e]) => e.msg);
    // English from the package's catalog even where the test helper has none: the field, the value, the fallback.
    assert.ok(
      warnings.some((m) => /rateLimit must be a number >= 0 \(got "-5"\): using 600/.test(String(m))),
      JSON.stringify(warnings),
    );
    assert.ok(
      warnings.some((m) => /maxBody must be a number >= 0 \(got "lots"\): using 1024/.test(String(m))),
      JSON.stringify(warnings),
    );
    assertJsonReply(await post(body({ padding: "x".repeat(4096) }), { "X-Webhook-Secret": SECRET }), 200, { received: true });
    await outputs.waitFor(1);
  });

  it("the node status counts in the sidebar's words and numbers: accepted, duplicate(s), refused", async () => {
    await load();
    const texts: string[] = [];
    helper.getNode("in").on("call:status", (call) => texts.push(String((call.args[0] as { text?: string }).text)));
    const h = { "X-Webhook-Secret": SECRET };
    assertJsonReply(await post(body({ execution_id: "counted" }), h), 200, { received: true });
    assertJsonReply(await post(body({ execution_id: "counted" }), h), 200, { received: true, duplicate: true });
    assert.equal((await post(body(), { "X-Webhook-Secret": "wrong" })).status, 401);
    const deadline = Date.now() + 10_000;
    while (!texts.includes("1 accepted, 1 duplicate, 1 refused")) {
      if (Date.now() > deadline) throw new Error(`status: ${JSON.stringify(texts)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const view = (
      helper.getNode("in") as unknown as { agentCallbackDeliveries: { view(): { counts: unknown } } }
    ).agentCallbackDeliveries.view();
    assert.deepEqual(view.counts, { accepted: 1, duplicate: 1, refused: 1 });
    assertJsonReply(await post(body({ execution_id: "counted" }), h), 200, { received: true, duplicate: true });
    while (!texts.includes("1 accepted, 2 duplicates, 1 refused")) {
      if (Date.now() > deadline) throw new Error(`status: ${JSON.stringify(texts)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });

  it("a bad number stays in the node status next to the counts", async () => {
    await load({ rateLimit: "-5" });
    const shown = new Promise<string>((resolve) => {
      helper.getNode("in").on("call:status", (call) => {
        const text = String((call.args[0] as { text?: string }).text);
        if (/accepted/.test(text)) resolve(text);
      });
    });
    assertJsonReply(await post(body(), { "X-Webhook-Secret": SECRET }), 200, { received: true });
    const text = await shown;
    assert.match(text, /rateLimit/);
    assert.match(text, /600/);
    assert.match(text, /; 1 accepted$/);
  });

  it("honours httpNodeMiddleware and httpNodeCors", async () => {
    helper.settings({
      httpNodeMiddleware: (req: http.IncomingMessage, res: http.ServerResponse, next: () => void) => {
        if (req.headers["x-block"]) {
          res.statusCode = 403;
          res.end("blocked by middleware");
          return;
        }
        res.setHeader("X-Seen-By-Middleware", "yes");
        next();
      },
      httpNodeCors: { origin: "*", methods: "GET,PUT,POST,DELETE" },
    });
    await load();
    const h = { "X-Webhook-Secret": SECRET };
    const ok = await post(body(), { ...h, Origin: "http://example.test" });
    assertJsonReply(ok, 200, { received: true });
    assert.equal(ok.headers["x-seen-by-middleware"], "yes");
    assert.equal(ok.headers["access-control-allow-origin"], "*");
    const blocked = await post(body({ execution_id: "b" }), { ...h, "X-Block": "1" });
    assert.equal(blocked.status, 403);
  });
});
