// With respond: flow, what a flow reads on msg.req is what core `http in` gives it (issue 19), on
// Node-RED's own port and on a port of callback in's own: a Function node reads every usual field
// of the request behind each of the three nodes, and the three answers are compared.
import assert from "node:assert/strict";
import { NodeRedProcess, freePort, nodeRedVersion } from "../../support/node-red";
import { rawPost } from "../../support/raw-client";
import { requestWhenUp } from "../../support/request";
import { samplePayload } from "../../../nodes/lib/shared/payload";

const SECRET = "flow-request-secret";
const TAB = "flow-request";

/** Reads each field of msg.req; a read that throws answers its error instead of failing the flow. */
const READ_REQUEST = `
const r = msg.req;
const read = (f) => { try { const v = f(); return v === undefined ? "(undefined)" : v; } catch (e) { return "THROWS: " + e.message; } };
msg.payload = {
  header: read(() => r.headers["x-other"]),
  joined: read(() => r.headers["x-multi"]),
  distinct: read(() => r.headersDistinct["x-multi"]),
  distinctOther: read(() => r.headersDistinct["x-other"]),
  raw: read(() => r.rawHeaders.filter((h, i) => i % 2 === 0 && /^x-(other|multi)$/i.test(h)).length),
  rawPairs: read(() => r.rawHeaders.length % 2),
  trailers: read(() => r.trailers),
  trailersDistinct: read(() => r.trailersDistinct),
  rawTrailers: read(() => r.rawTrailers),
  query: read(() => r.query),
  params: read(() => r.params),
  ip: read(() => r.ip),
  ips: read(() => r.ips),
  cookies: read(() => r.cookies),
  signedCookies: read(() => r.signedCookies),
  get: read(() => r.get("X-Other")),
  is: read(() => r.is("json")),
  method: read(() => r.method),
  path: read(() => r.path),
  url: read(() => r.url),
  originalUrl: read(() => r.originalUrl),
  hostname: read(() => r.hostname),
  protocol: read(() => r.protocol),
  secure: read(() => r.secure),
  httpVersion: read(() => r.httpVersion),
  secretSeen: read(() => JSON.stringify([r.headers, r.headersDistinct, r.rawHeaders]).toLowerCase().includes("x-webhook-secret")),
};
return msg;`;

function flows(ownPort: number): unknown[] {
  const fn = (id: string): unknown => ({ id, z: TAB, type: "function", func: READ_REQUEST, outputs: 1, wires: [["resp"]] });
  const callbackIn = (id: string, props: Record<string, unknown>): unknown => ({
    id,
    z: TAB,
    type: "agent-callback-in",
    url: "/flow-req/:kind",
    verify: "secret",
    respond: "flow",
    rateLimit: 0,
    credentials: { secret: SECRET },
    wires: [[`${id}-fn`], [], []],
    ...props,
  });
  return [
    { id: TAB, type: "tab", label: "msg.req" },
    { id: "core", z: TAB, type: "http in", url: "/core-req/:kind", method: "post", upload: false, wires: [["core-fn"]] },
    fn("core-fn"),
    callbackIn("nr", {}),
    fn("nr-fn"),
    callbackIn("own", { listen: "port", host: "127.0.0.1", port: ownPort }),
    fn("own-fn"),
    { id: "resp", z: TAB, type: "http response", statusCode: "", headers: {}, wires: [] },
  ];
}

describe(`callback in with respond: flow gives the flow msg.req as core http in does, in a real Node-RED ${nodeRedVersion()}`, function () {
  this.timeout(120_000);
  const red = new NodeRedProcess();
  let ownPort: number;

  before(async () => {
    ownPort = await freePort();
    await red.start();
    const started = (red.log.match(/Started flows/g) ?? []).length;
    const res = await fetch(`${red.url}/flows`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Node-RED-Deployment-Type": "full" },
      body: JSON.stringify(flows(ownPort)),
    });
    assert.ok(res.ok, `deploy: ${res.status}`);
    while ((red.log.match(/Started flows/g) ?? []).length <= started) await new Promise((r) => setTimeout(r, 50));
  });
  after(async () => {
    await red.stop();
    red.cleanup();
  });

  /** What the Function node read behind `url`, with the path prefix made the same for all three. */
  async function readBehind(url: string, id: string): Promise<Record<string, unknown>> {
    const reply = await rawPost({
      url,
      headers: {
        "Content-Type": "application/json",
        "X-Webhook-Secret": SECRET,
        "X-Other": "kept",
        "X-Multi": ["first", "second"],
        Cookie: 'session=abc; theme=dark%20blue; prefs=j:{"a":1}; session=later',
      },
      body: JSON.stringify({ ...samplePayload(), execution_id: id }),
    });
    assert.equal(reply.status, 200, `${url}: ${reply.status} ${reply.text}`);
    return JSON.parse(reply.text.replace(/\/core-req\//g, "/flow-req/")) as Record<string, unknown>;
  }

  it("headers, headersDistinct, rawHeaders, trailers, query, params, ip, cookies and Express's helpers read as on core http in, without the secret", async () => {
    const core = await readBehind(`${red.url}/core-req/alpha?x=1&y=two`, "core-1");
    const onNodeRed = await readBehind(`${red.url}/flow-req/alpha?x=1&y=two`, "nr-1");
    await requestWhenUp(`http://127.0.0.1:${ownPort}/`);
    const onOwnPort = await readBehind(`http://127.0.0.1:${ownPort}/flow-req/alpha?x=1&y=two`, "own-1");
    for (const seen of [core, onNodeRed, onOwnPort]) {
      for (const [field, value] of Object.entries(seen)) assert.ok(!String(value).startsWith("THROWS"), `${field}: ${String(value)}`);
    }
    // What core http in gives (it does not hide the secret header: the only expected difference).
    assert.deepEqual(core.distinct, ["first", "second"]);
    assert.deepEqual(core.params, { kind: "alpha" });
    assert.deepEqual(core.cookies, { session: "abc", theme: "dark blue", prefs: { a: 1 } });
    assert.equal(core.secretSeen, true);
    const expected = { ...core, secretSeen: false };
    assert.deepEqual(onNodeRed, expected, "on Node-RED's port");
    // The own port's Host header names another port; hostname has no port, so it is the same.
    assert.deepEqual(onOwnPort, expected, "on a port of its own");
  });
});
