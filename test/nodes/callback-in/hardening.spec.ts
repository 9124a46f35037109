// callback in facing strangers (issue 11), in a real Node-RED whose editor and node routes share
// "/": refused requests cannot lock out the genuine sender, headers are checked before the body is
// read, the bytes being read are capped, ids are bounded, nothing secret reaches the flow, and the
// editor's own paths cannot be taken.
import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";
import { NodeRedProcess, nodeRedVersion } from "../../support/node-red";
import { rawPost } from "../../support/raw-client";
import { samplePayload } from "../../../nodes/lib/shared/payload";

// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS module without type declarations, typed by the cast
const bcrypt = require("bcryptjs") as { hashSync(pw: string, rounds: number): string };

const SECRET = "hardening-secret-0123456789";
const HMAC_KEY = "hardening-hmac-key";
const WHSEC = "whsec_" + randomBytes(32).toString("base64");
const SHORT_WHSEC = "whsec_" + randomBytes(10).toString("base64");
const STRANGER = "127.0.0.1";
const SENDER = "127.0.0.2";

const TAB = "hardening";
function callbackIn(id: string, props: Record<string, unknown>, secret: string, wires: string[][] = [["dbg"], ["dbg"], ["dbg"]]): unknown {
  return { id, z: TAB, type: "agent-callback-in", verify: "secret", rateLimit: 0, ...props, credentials: { secret }, wires };
}
const debug = {
  id: "dbg",
  z: TAB,
  type: "debug",
  name: "emitted",
  active: true,
  tosidebar: false,
  console: true,
  complete: "payload.execution_id",
  targetType: "msg",
  wires: [],
};

function flows(): unknown[] {
  return [
    { id: TAB, type: "tab", label: "hardening" },
    callbackIn("lockout", { url: "/lockout", rateLimit: 5 }, SECRET),
    callbackIn("early", { url: "/early" }, SECRET),
    callbackIn("sig", { url: "/sig", verify: "signature", maxBody: 64, maxPending: 100 }, HMAC_KEY),
    callbackIn("sw", { url: "/sw", verify: "standard-webhooks", tolerance: 300 }, WHSEC),
    callbackIn("shortkey", { url: "/shortkey", verify: "standard-webhooks" }, SHORT_WHSEC),
    callbackIn("half", { url: "/half", rateLimit: "0.5" }, SECRET),
    // Behind a proxy without trustProxy every client has the proxy's address (issue 19).
    callbackIn("shared-secret", { url: "/shared-secret", rateLimit: 30 }, SECRET),
    callbackIn("shared-sig", { url: "/shared-sig", verify: "signature", rateLimit: 30 }, HMAC_KEY),
    callbackIn("shared-sw", { url: "/shared-sw", verify: "standard-webhooks", tolerance: 300, rateLimit: 30 }, WHSEC),
    callbackIn("inflow", { url: "/answer-in-flow", respond: "flow", secretHeader: "X-Custom-Secret" }, SECRET, [["show"], [], []]),
    // The flow answers with the headers it was given.
    {
      id: "show",
      z: TAB,
      type: "change",
      rules: [
        { t: "set", p: "payload", pt: "msg", to: "req.headers", tot: "msg" },
        { t: "set", p: "payload.__raw", pt: "msg", to: "req.rawHeaders", tot: "msg" },
      ],
      wires: [["resp"]],
    },
    { id: "resp", z: TAB, type: "http response", statusCode: "", headers: {}, wires: [] },
    debug,
  ];
}

const body = (id: string, overrides: Record<string, unknown> = {}): string =>
  JSON.stringify({ ...samplePayload(), execution_id: id, ...overrides });
const json = { "Content-Type": "application/json" };
const hmac = (raw: string): string => "sha256=" + createHmac("sha256", HMAC_KEY).update(raw).digest("hex");
function swHeaders(key: string, raw: string, id: string, seconds = Math.floor(Date.now() / 1000)): Record<string, string> {
  const mac = createHmac("sha256", Buffer.from(key.slice(6), "base64"))
    .update(`${id}.${seconds}.${raw}`)
    .digest("base64");
  return { "webhook-id": id, "webhook-timestamp": String(seconds), "webhook-signature": `v1,${mac}` };
}

describe(`callback in facing strangers, in a real Node-RED ${nodeRedVersion()} (editor and node routes at /)`, function () {
  this.timeout(120_000);
  const red = new NodeRedProcess();

  async function deploy(flow: unknown[]): Promise<void> {
    const started = (red.log.match(/Started flows/g) ?? []).length;
    const res = await fetch(`${red.url}/flows`, {
      method: "POST",
      headers: { ...json, "Node-RED-Deployment-Type": "full" },
      body: JSON.stringify(flow),
    });
    assert.ok(res.ok, `deploy: ${res.status} ${await res.text()}`);
    while ((red.log.match(/Started flows/g) ?? []).length <= started) await new Promise((r) => setTimeout(r, 50));
  }
  const emittedCount = (id: string): number => red.log.split("\n").filter((line) => line.trim() === id).length;

  before(async () => {
    await red.start();
    await deploy(flows());
  });
  after(async () => {
    await red.stop();
    red.cleanup();
  });

  it("refused requests from one client never spend the genuine sender's budget; the stranger gets 429 + Retry-After", async () => {
    const url = `${red.url}/lockout`;
    const strangers: number[] = [];
    let retryAfter: string | string[] | undefined;
    for (let i = 0; i < 30; i++) {
      const reply = await rawPost({ url, headers: { ...json, "X-Webhook-Secret": "wrong" }, body: body(`x${i}`), localAddress: STRANGER });
      strangers.push(reply.status);
      if (reply.status === 429) retryAfter = reply.headers["retry-after"];
    }
    assert.deepEqual([...new Set(strangers)], [401, 429]);
    assert.ok(Number(retryAfter) >= 1, `Retry-After ${String(retryAfter)}`);
    // rateLimit is 5: the genuine sender still has all of it.
    for (let i = 0; i < 5; i++) {
      const reply = await rawPost({
        url,
        headers: { ...json, "X-Webhook-Secret": SECRET },
        body: body(`lockout-ok-${i}`),
        localAddress: SENDER,
      });
      assert.equal(reply.status, 200, reply.text);
    }
    // ... and only its own requests spend it.
    const sixth = await rawPost({ url, headers: { ...json, "X-Webhook-Secret": SECRET }, body: body("lockout-6"), localAddress: SENDER });
    assert.equal(sixth.status, 429);
    await red.waitFor(/lockout-ok-4/);
  });

  it("a stranger flooding bad secrets or signatures from the sender's own address never gets the sender's callbacks refused", async () => {
    const modes: Array<[string, (raw: string, n: number) => Record<string, string>, (raw: string, n: number) => Record<string, string>]> = [
      ["/shared-secret", () => ({ "X-Webhook-Secret": SECRET }), () => ({ "X-Webhook-Secret": "wrong" })],
      ["/shared-sig", (raw) => ({ "X-Signature": hmac(raw) }), () => ({ "X-Signature": "sha256=" + "c".repeat(64) })],
      [
        "/shared-sw",
        (raw, n) => swHeaders(WHSEC, raw, `good-${n}`),
        (raw, n) => ({ ...swHeaders(WHSEC, raw, `bad-${n}`), "webhook-signature": "v1," + "B".repeat(43) + "=" }),
      ],
    ];
    for (const [path, genuine, forged] of modes) {
      const url = red.url + path;
      const stranger: number[] = [];
      const sender: number[] = [];
      // rateLimit 30: the stranger is over its allowance of refused requests after 30; the sender sends 10.
      for (let i = 0; i < 100; i++) {
        const raw = body(`forged${path}-${i}`);
        stranger.push((await rawPost({ url, headers: { ...json, ...forged(raw, i) }, body: raw, localAddress: STRANGER })).status);
        if (i % 10 !== 9) continue;
        const good = body(`genuine${path}-${i}`);
        const reply = await rawPost({ url, headers: { ...json, ...genuine(good, i) }, body: good, localAddress: STRANGER });
        sender.push(reply.status);
      }
      assert.deepEqual(sender, new Array<number>(10).fill(200), `${path}: the sender's replies`);
      assert.deepEqual([...new Set(stranger)], [401, 429], `${path}: the stranger's replies`);
      await red.waitFor(new RegExp(`genuine${path.replace(/\//g, "\\/")}-99`));
    }
  });

  it("secret mode: a wrong or missing secret is answered 401 before the body, and the connection is closed", async () => {
    const variants: Array<Record<string, string>> = [{ "X-Webhook-Secret": "wrong" }, {}];
    for (const headers of variants) {
      // 1 MiB declared, 10 bytes sent, the rest never: only an answer before the body can come.
      const reply = await rawPost({
        url: `${red.url}/early`,
        headers: { ...json, ...headers, "Content-Length": String(1024 * 1024) },
        body: "{".padEnd(10, " "),
        hold: true,
      });
      assert.equal(reply.status, 401);
      assert.equal(reply.headers.connection, "close");
      assert.deepEqual(JSON.parse(reply.text), { error: "Unauthorized" });
    }
  });

  it("signature and standard-webhooks: missing or malformed headers and stale timestamps are refused before the body", async () => {
    const cases: Array<[string, Record<string, string>]> = [
      ["/sig", {}],
      ["/sig", { "X-Signature": "sha256=1234" }],
      ["/sig", { "X-Signature": "md5=" + "0".repeat(64) }],
      ["/sw", {}],
      ["/sw", { "webhook-id": "m", "webhook-timestamp": "now", "webhook-signature": "v1," + "A".repeat(43) + "=" }],
      [
        "/sw",
        {
          "webhook-id": "m",
          "webhook-timestamp": String(Math.floor(Date.now() / 1000) - 3600),
          "webhook-signature": "v1," + "A".repeat(43) + "=",
        },
      ],
      ["/sw", { "webhook-id": "m", "webhook-timestamp": String(Math.floor(Date.now() / 1000)), "webhook-signature": "v1,short" }],
    ];
    for (const [path, headers] of cases) {
      const reply = await rawPost({
        url: red.url + path,
        headers: { ...json, ...headers, "Content-Length": "4000" },
        body: "{",
        hold: true,
      });
      assert.equal(reply.status, 401, `${path} ${JSON.stringify(headers)}`);
    }
    const raw = body("sw-ok");
    assert.equal((await rawPost({ url: `${red.url}/sw`, headers: { ...json, ...swHeaders(WHSEC, raw, "m1") }, body: raw })).status, 200);
    const sraw = body("sig-ok");
    assert.equal((await rawPost({ url: `${red.url}/sig`, headers: { ...json, "X-Signature": hmac(sraw) }, body: sraw })).status, 200);
  });

  it("maxPending: past the bytes being read at once, 503 with Retry-After and nothing read; room again once they end", async () => {
    const url = `${red.url}/sig`;
    const declared = 60 * 1024;
    const looksSigned = { ...json, "X-Signature": "sha256=" + "a".repeat(64), "Content-Length": String(declared) };
    // A slow body from one client holds 60 of the 100 KiB.
    let finishSlow: (() => void) | undefined;
    const slow = new Promise<number>((resolve, reject) => {
      import("node:http")
        .then(({ request }) => {
          const u = new URL(url);
          const req = request(
            {
              host: u.hostname,
              port: u.port,
              path: u.pathname,
              method: "POST",
              headers: looksSigned,
              agent: false,
              localAddress: STRANGER,
            },
            (res) => {
              res.resume();
              res.on("end", () => resolve(res.statusCode ?? 0));
            },
          );
          req.on("error", reject);
          req.write("x".repeat(1000));
          finishSlow = () => req.end("x".repeat(declared - 1000));
        })
        .catch(reject);
    });
    await new Promise((r) => setTimeout(r, 300));
    const busy = await rawPost({ url, headers: looksSigned, body: "x", hold: true, localAddress: SENDER });
    assert.equal(busy.status, 503);
    assert.ok(Number(busy.headers["retry-after"]) >= 1);
    assert.equal(busy.headers.connection, "close");
    finishSlow?.();
    assert.equal(await slow, 401, "the slow one was read to its end and its signature checked");
    const raw = body("after-busy");
    const ok = await rawPost({ url, headers: { ...json, "X-Signature": hmac(raw) }, body: raw, localAddress: SENDER });
    assert.equal(ok.status, 200, ok.text);
  });

  it("execution_id, agent_loop_id and agent_loop_name of more than 256 characters: 400 naming the field, nothing emitted", async () => {
    for (const field of ["execution_id", "agent_loop_id", "agent_loop_name"]) {
      const raw = body(
        field === "execution_id" ? "e".repeat(257) : `long-${field}`,
        field === "execution_id" ? {} : { [field]: "n".repeat(257) },
      );
      const reply = await rawPost({ url: `${red.url}/early`, headers: { ...json, "X-Webhook-Secret": SECRET }, body: raw });
      assert.equal(reply.status, 400);
      assert.deepEqual(JSON.parse(reply.text), { error: `${field}: must be at most 256 characters` });
    }
    const ok = await rawPost({ url: `${red.url}/early`, headers: { ...json, "X-Webhook-Secret": SECRET }, body: body("e".repeat(256)) });
    assert.equal(ok.status, 200);
    await red.waitFor(/e{256}/);
    assert.equal(emittedCount("long-agent_loop_id") + emittedCount("long-agent_loop_name"), 0);
  });

  it("respond: flow: msg.req.headers and rawHeaders carry neither the secret header nor signature headers", async () => {
    const raw = body("flow-headers");
    const reply = await rawPost({
      url: `${red.url}/answer-in-flow`,
      headers: {
        ...json,
        "X-Custom-Secret": SECRET,
        "X-Signature": "sha256=" + "b".repeat(64),
        "webhook-signature": "v1,x",
        "X-Other": "kept",
      },
      body: raw,
    });
    assert.equal(reply.status, 200, reply.text);
    const seen = JSON.parse(reply.text) as Record<string, unknown>;
    assert.equal(seen["x-other"], "kept");
    for (const name of ["x-custom-secret", "x-signature", "webhook-signature"]) assert.ok(!(name in seen), name);
    assert.ok(!reply.text.includes(SECRET), "the secret is nowhere in what the flow saw");
    assert.ok(!JSON.stringify(seen.__raw).toLowerCase().includes("x-signature"));
  });

  it("rateLimit between 0 and 1 is invalid at runtime: a warning and the default, never an endpoint that answers 429 forever", async () => {
    assert.match(red.log, /rateLimit must be 0 \(unlimited\) or at least 1 request per minute \(got "0\.5"\): using 600/);
    const reply = await rawPost({ url: `${red.url}/half`, headers: { ...json, "X-Webhook-Secret": SECRET }, body: body("half-ok") });
    assert.equal(reply.status, 200);
  });

  it("a whsec_ key shorter than 24 bytes is a configuration error: logged, and no HMAC is made with it", async () => {
    assert.match(red.log, /not valid Standard Webhooks keys/);
    assert.ok(!red.log.includes(SHORT_WHSEC.slice(6)), "the key is not logged");
    const raw = body("short-key");
    const reply = await rawPost({ url: `${red.url}/shortkey`, headers: { ...json, ...swHeaders(SHORT_WHSEC, raw, "m2") }, body: raw });
    assert.equal(reply.status, 401);
    assert.equal(emittedCount("short-key"), 0);
  });
});

describe(`callback in cannot take the editor's paths (Node-RED ${nodeRedVersion()}, adminAuth, httpNodeRoot = httpAdminRoot = /)`, function () {
  this.timeout(120_000);
  const clashing = ["/flows", "/auth/token", "/settings", "/nodes/x", "/comms", "/library/a/b"];
  const red = new NodeRedProcess({
    settings: {
      adminAuth: { type: "credentials", users: [{ username: "admin", password: bcrypt.hashSync("admin-password", 8), permissions: "*" }] },
    },
    flows: [
      { id: TAB, type: "tab", label: "clash" },
      ...clashing.map((url, i) => ({ id: `clash${i}`, z: TAB, type: "agent-callback-in", url, verify: "none", wires: [[], [], []] })),
      { id: "fine", z: TAB, type: "agent-callback-in", url: "/agent-results", verify: "none", wires: [[], [], []] },
    ],
  });
  before(() => red.start());
  after(async () => {
    await red.stop();
    red.cleanup();
  });

  it("refuses each clashing path at deploy naming the clash, and logging in and deploying still work", async () => {
    for (const url of clashing) {
      const first = "/" + url.split("/")[1];
      assert.match(red.log, new RegExp(`Path ${url.replace(/\//g, "\\/")} is the editor's own ${first.replace(/\//g, "\\/")}`), url);
    }
    const login = await fetch(`${red.url}/auth/token`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        client_id: "node-red-admin",
        grant_type: "password",
        scope: "*",
        username: "admin",
        password: "admin-password",
      }),
    });
    assert.equal(login.status, 200, await login.clone().text());
    const { access_token: token } = (await login.json()) as { access_token: string };
    const current = await fetch(`${red.url}/flows`, { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(current.status, 200);
    const flowsNow = (await current.json()) as unknown[];
    const started = (red.log.match(/Started flows/g) ?? []).length;
    const deployed = await fetch(`${red.url}/flows`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}`, "Node-RED-Deployment-Type": "full" },
      body: JSON.stringify(flowsNow),
    });
    assert.ok(deployed.status === 200 || deployed.status === 204, `${deployed.status} ${await deployed.text()}`);
    await red.waitFor(new RegExp(`(Started flows[\\s\\S]*){${started + 1}}`));
    // The path that does not clash works.
    const ok = await rawPost({ url: `${red.url}/agent-results`, headers: json, body: body("not-clashing") });
    assert.equal(ok.status, 200);
  });
});
