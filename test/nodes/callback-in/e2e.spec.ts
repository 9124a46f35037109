// callback in inside a real Node-RED started from its CLI, editor and admin API at "/": the admin
// body parsers run before node routes there, so this proves signatures are checked over the raw
// bytes, JSON bodies do not hang, httpNodeRoot/httpNodeAuth apply, and redeploys replace routes.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { NodeRedProcess, nodeRedVersion } from "../../support/node-red";

// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS module without type declarations, typed by the cast
const bcrypt = require("bcryptjs") as { hashSync(pw: string, rounds: number): string };

const AUTH = "Basic " + Buffer.from("hook:hook-password").toString("base64");

function flows(secret: string, url = "/agent-results"): unknown[] {
  return [
    { id: "tab1", type: "tab", label: "e2e" },
    {
      id: "in",
      z: "tab1",
      type: "agent-callback-in",
      url,
      verify: "signature",
      maxBody: 64,
      wires: [["dc"], ["df"], ["dt"]],
      credentials: { secret },
    },
    // A route with a parameter, in other letter case: protected from the admin body parsers as Express routes it.
    {
      id: "in2",
      z: "tab1",
      type: "agent-callback-in",
      url: "/By-Loop/:name",
      verify: "signature",
      wires: [["dc"], ["df"], ["dt"]],
      credentials: { secret },
    },
    ...["dc", "df", "dt"].map((id) => ({
      id,
      z: "tab1",
      type: "debug",
      name: `out-${id}`,
      active: true,
      tosidebar: false,
      console: true,
      complete: "payload.execution_id",
      targetType: "msg",
      wires: [],
    })),
  ];
}

describe(`callback in in a real Node-RED ${nodeRedVersion()} (admin API at /, httpNodeRoot /hooks, httpNodeAuth)`, function () {
  this.timeout(120_000);
  const red = new NodeRedProcess({
    settings: { httpNodeRoot: "/hooks", httpNodeAuth: { user: "hook", pass: bcrypt.hashSync("hook-password", 8) } },
  });

  async function deploy(flow: unknown[]): Promise<void> {
    const started = (red.log.match(/Started flows/g) ?? []).length;
    const res = await fetch(`${red.url}/flows`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Node-RED-Deployment-Type": "full" },
      body: JSON.stringify(flow),
    });
    assert.ok(res.ok, `deploy: ${res.status} ${await res.text()}`);
    const deadline = Date.now() + 60_000;
    while ((red.log.match(/Started flows/g) ?? []).length <= started) {
      if (Date.now() > deadline) throw new Error(`flows did not restart:\n${red.log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  function send(path: string, raw: string, headers: Record<string, string>): Promise<Response> {
    return fetch(`${red.url}${path}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: AUTH, ...headers },
      body: raw,
    });
  }
  const sign = (key: string, raw: string): string => "sha256=" + createHmac("sha256", key).update(raw).digest("hex");

  before(async () => {
    await red.start();
    await deploy(flows("key-one"));
  });
  after(async () => {
    await red.stop();
    red.cleanup();
  });

  it("accepts a body signed over its exact bytes (odd spacing, non-ASCII) and emits it", async () => {
    const raw = `{ "agent_loop_id" : "loop_e2e" ,\n  "execution_id":"e2e-\u00e9-1", "status":"failed", "error":"boom \u2615" }`;
    const res = await send("/hooks/agent-results", raw, { "X-Signature": sign("key-one", raw) });
    assert.equal(res.status, 200);
    assert.match(String(res.headers.get("content-type")), /^application\/json/);
    assert.deepEqual(await res.json(), { received: true });
    await red.waitFor(/e2e-\u00e9-1/, 30_000);
    assert.match(red.log, /out-df[^\n]*\][\s\S]*e2e-\u00e9-1/);
  });

  it("protects routes with parameters, matched as Express matches them (case, trailing slash)", async () => {
    const raw = `{"agent_loop_id":"l",   "execution_id":"e2e-param","status":"completed"}`;
    const res = await send("/hooks/by-loop/daily-report/", raw, { "X-Signature": sign("key-one", raw) });
    assert.equal(res.status, 200, await res.clone().text());
    assert.deepEqual(await res.json(), { received: true });
    await red.waitFor(/e2e-param/, 30_000);
  });

  it("refuses a signature of the re-serialised JSON and a wrong key with 401 JSON", async () => {
    const raw = `{"agent_loop_id":"loop_e2e",  "execution_id":"e2e-2","status":"completed"}`;
    const reserialised = JSON.stringify(JSON.parse(raw));
    for (const signature of [sign("key-one", reserialised), sign("key-two", raw)]) {
      const res = await send("/hooks/agent-results", raw, { "X-Signature": signature });
      assert.equal(res.status, 401);
      assert.deepEqual(await res.json(), { error: "Unauthorized" });
    }
    assert.ok(!red.log.includes("e2e-2"), "nothing emitted");
  });

  it("answers 400 naming the field, 413 over maxBody and 415 for other types", async () => {
    const bad = `{"agent_loop_id":"l","execution_id":"e2e-3","status":"done"}`;
    const r400 = await send("/hooks/agent-results", bad, { "X-Signature": sign("key-one", bad) });
    assert.equal(r400.status, 400);
    assert.deepEqual(await r400.json(), { error: "status: expected one of completed, failed, timeout" });
    const big = JSON.stringify({ agent_loop_id: "l", execution_id: "big", status: "completed", pad: "x".repeat(70 * 1024) });
    const r413 = await send("/hooks/agent-results", big, { "X-Signature": sign("key-one", big) });
    assert.equal(r413.status, 413);
    assert.equal(typeof ((await r413.json()) as { error: unknown }).error, "string");
    const r415 = await fetch(`${red.url}/hooks/agent-results`, {
      method: "POST",
      headers: { "Content-Type": "text/plain", Authorization: AUTH },
      body: "hi",
    });
    assert.equal(r415.status, 415);
  });

  it("is behind httpNodeAuth and under httpNodeRoot", async () => {
    const raw = `{"agent_loop_id":"l","execution_id":"e2e-auth","status":"completed"}`;
    const noAuth = await fetch(`${red.url}/hooks/agent-results`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Signature": sign("key-one", raw) },
      body: raw,
    });
    assert.equal(noAuth.status, 401);
    const outsideRoot = await send("/agent-results", raw, { "X-Signature": sign("key-one", raw) });
    assert.notEqual(outsideRoot.status, 200);
    assert.ok(!red.log.includes("e2e-auth"));
  });

  it("redeploy replaces the route: the new key works, the old does not, a moved path frees the old one", async () => {
    await deploy(flows("key-two"));
    const raw = `{"agent_loop_id":"l","execution_id":"e2e-redeploy","status":"timeout"}`;
    assert.equal((await send("/hooks/agent-results", raw, { "X-Signature": sign("key-one", raw) })).status, 401);
    const ok = await send("/hooks/agent-results", raw, { "X-Signature": sign("key-two", raw) });
    assert.equal(ok.status, 200);
    await red.waitFor(/e2e-redeploy/, 30_000);

    await deploy(flows("key-two", "/moved"));
    const raw2 = `{"agent_loop_id":"l","execution_id":"e2e-moved","status":"completed"}`;
    assert.equal((await send("/hooks/agent-results", raw2, { "X-Signature": sign("key-two", raw2) })).status, 404);
    assert.equal((await send("/hooks/moved", raw2, { "X-Signature": sign("key-two", raw2) })).status, 200);
    await red.waitFor(/e2e-moved/, 30_000);
    // The editor's own JSON API still parses bodies (our marker only touches our route).
    const flowsRes = await fetch(`${red.url}/flows`);
    assert.equal(flowsRes.status, 200);
  });

  it("keeps the secret out of flows.json and the log", async () => {
    const res = await fetch(`${red.url}/flows`);
    const text = await res.text();
    assert.ok(!text.includes("key-two"), "secret not in the flows API");
    assert.ok(!red.log.includes("key-two"), "secret not in the log");
  });
});
