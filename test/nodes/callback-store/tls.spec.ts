// The callback store over TLS (rediss://) in a real Node-RED (its CLI, flows deployed through the
// admin API): a redis-server that speaks TLS only, with a CA and certificate made for the test, and
// a core tls-config node holding the CA. Every byte to Redis passes a tap that records it, to show
// that nothing (no command, no password) is ever sent in plain text, whatever the settings.
import assert from "node:assert/strict";
import { samplePayload } from "../../../nodes/lib/shared/payload";
import { StoreConnection } from "../../../nodes/lib/store/connection";
import { NodeRedProcess, freePort } from "../../support/node-red";
import { Receiver } from "../../support/receiver";
import { RedisServer } from "../../support/redis-server";
import { TcpTap } from "../../support/tcp-tap";
import { makeTestPki, type TestPki } from "../../support/tls";
import { STORE_ID, callbackInFlow, deployFlows, enqueueFlow, type FlowNode } from "../../reliability/support/flows";

const PASSWORD = "redis-pw-Zq81xT";
const SECRET = "in-secret-4411";
const TLS_ID = "store-tls";

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Every node's status, kept in global context and read at GET /__statuses. */
function statusRecorder(): FlowNode[] {
  const z = "reliability-tab";
  const keep = `const s = global.get("statuses") || []; s.push(msg.status.source.id + ": " + (msg.status.text || "")); global.set("statuses", s); return null;`;
  const read = `msg.payload = global.get("statuses") || []; return msg;`;
  const fn = (id: string, func: string, wires: string[][]): FlowNode => ({ id, type: "function", z, func, outputs: 1, libs: [], wires });
  return [
    { id: "st", type: "status", z, scope: null, wires: [["st-keep"]] },
    fn("st-keep", keep, [[]]),
    { id: "st-in", type: "http in", z, url: "/__statuses", method: "get", wires: [["st-read"]] },
    fn("st-read", read, [["st-res"]]),
    { id: "st-res", type: "http response", z, wires: [] },
  ];
}

/** callback in and callback out on one store at `url`, with a tls-config node holding `caFile`. */
function flows(url: string, caFile: string, sinkUrl: string): FlowNode[] {
  const byId = new Map<string, FlowNode>();
  for (const node of [...callbackInFlow("/agent-results", SECRET, { store: url, record: true }), ...enqueueFlow(sinkUrl, { store: url })]) {
    byId.set(node.id, node);
  }
  const store = byId.get(STORE_ID) as FlowNode;
  byId.set(STORE_ID, { ...store, tls: TLS_ID, credentials: { password: PASSWORD } });
  const tls: FlowNode = {
    id: TLS_ID,
    type: "tls-config",
    name: "",
    cert: "",
    key: "",
    ca: caFile,
    certname: "",
    keyname: "",
    caname: "",
    servername: "",
    verifyservercert: true,
    alpnprotocol: "",
  };
  return [...byId.values(), tls, ...statusRecorder()];
}

describe("callback store over TLS (rediss://, real redis-server and Node-RED)", function () {
  this.timeout(120_000);
  let pki: TestPki;
  let otherPki: TestPki;
  let redis: RedisServer;
  const tap = new TcpTap(() => redis.port);
  const instance = new NodeRedProcess();
  const receiver = new Receiver();
  let admin: StoreConnection;

  const post = (id: string): Promise<Response> =>
    fetch(`${instance.url}/agent-results`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Webhook-Secret": SECRET },
      body: JSON.stringify({ ...samplePayload(), execution_id: id }),
    });
  const enqueue = (id: string): Promise<Response> =>
    fetch(`${instance.url}/__enqueue`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ ...samplePayload(), execution_id: id }),
    });
  const statuses = async (): Promise<string[]> => (await (await fetch(`${instance.url}/__statuses`)).json()) as string[];

  /** Nothing secret in what Node-RED printed or showed, and every connection to Redis began with a TLS hello. */
  async function assertNothingLeaked(): Promise<void> {
    assert.doesNotMatch(instance.log, new RegExp(PASSWORD));
    assert.doesNotMatch((await statuses()).join("\n"), new RegExp(PASSWORD));
    assert.ok(tap.sent.length > 0, "connections made");
    for (const [i, bytes] of tap.sent.entries()) {
      if (bytes.length === 0) continue;
      assert.equal(
        bytes[0],
        0x16,
        `connection ${i} starts with a TLS handshake record, not ${JSON.stringify(bytes.subarray(0, 16).toString())}`,
      );
      assert.equal(bytes.includes(PASSWORD), false, `connection ${i} sent the password in plain text`);
      assert.equal(bytes.includes("AUTH"), false, `connection ${i} sent a command in plain text`);
    }
  }

  before(async () => {
    pki = makeTestPki();
    otherPki = makeTestPki();
    redis = new RedisServer({ tls: { cert: pki.files.serverCert, key: pki.files.serverKey, ca: pki.files.ca }, password: PASSWORD });
    await redis.start();
    await tap.start();
    admin = new StoreConnection({ url: redis.url, prefix: "agent-callback:", password: PASSWORD, tls: { ca: pki.ca } });
    await until(() => admin.state === "ready", `the test's own TLS connection: ${admin.lastError}`);
    await receiver.start(await freePort());
    await instance.start();
  });
  after(async () => {
    await instance.stop();
    instance.cleanup();
    await admin?.close();
    await receiver.stop();
    await tap.stop();
    await redis?.stop();
    redis?.cleanup();
    pki?.cleanup();
    otherPki?.cleanup();
  });

  it("dedupes callback in and delivers callback out through a rediss:// store with the CA in a tls-config node", async () => {
    tap.sent.length = 0;
    await deployFlows(instance.url, flows(`rediss://127.0.0.1:${tap.port}`, pki.files.ca, receiver.url), () => instance.log);
    const first = await post("exec_tls_1");
    assert.equal(first.status, 200, await first.clone().text());
    assert.deepEqual(await first.json(), { received: true });
    const again = await post("exec_tls_1");
    assert.deepEqual(await again.json(), { received: true, duplicate: true });
    assert.equal(await admin.sendCommand(["GET", "agent-callback:dedupe:cb-in:exec_tls_1"]), "done");
    const emitted = (await (await fetch(`${instance.url}/__emitted`)).json()) as unknown[];
    assert.deepEqual(emitted, [["completed", "exec_tls_1", "completed"]]);

    const queued = await enqueue("exec_tls_out_1");
    assert.equal(queued.status, 200, await queued.text());
    await receiver.waitFor((requests) => requests.length === 1);
    assert.equal(receiver.requests[0]?.json.execution_id, "exec_tls_out_1");
    await until(async () => Number(await admin.sendCommand(["HLEN", "agent-callback:outbox:cb-out:entries"])) === 0, "removed from Redis");
    assert.ok(!(await statuses()).some((s) => /store unreachable/.test(s)), (await statuses()).join("\n"));
    await assertNothingLeaked();
  });

  it("refuses a server certificate the configured CA did not sign, saying which field to fix, and never falls back to plain text", async () => {
    tap.sent.length = 0;
    await deployFlows(instance.url, flows(`rediss://127.0.0.1:${tap.port}`, otherPki.files.ca, receiver.url), () => instance.log);
    const refused = await post("exec_tls_wrong_ca");
    assert.equal(refused.status, 503, await refused.text());
    assert.ok(Number(refused.headers.get("retry-after")) >= 1);
    const nack = await enqueue("exec_tls_wrong_ca_out");
    assert.equal(nack.status, 503);
    assert.match(
      ((await nack.json()) as { error: string }).error,
      /certificate is not trusted.*CA Certificate of the store's TLS configuration/,
    );
    await until(async () => (await statuses()).some((s) => s.startsWith("cb-in: store unreachable: TLS")), "callback in's status says why");
    const inStatus = (await statuses()).filter((s) => s.startsWith("cb-in: store unreachable")).at(-1) ?? "";
    assert.match(
      inStatus,
      /not trusted \(self[- ]signed certificate in certificate chain\); put the CA that signed it in the CA Certificate/,
    );
    assert.match(
      instance.log,
      /callback store unreachable \(TLS: the Redis server's certificate is not trusted .*CA Certificate of the store's TLS configuration/,
    );
    assert.equal(await admin.sendCommand(["EXISTS", "agent-callback:dedupe:cb-in:exec_tls_wrong_ca"]), 0);
    await assertNothingLeaked();
  });

  it("does not connect in plain text when a TLS configuration is chosen with a redis:// URL", async () => {
    tap.sent.length = 0;
    await deployFlows(instance.url, flows(`redis://127.0.0.1:${tap.port}`, pki.files.ca, receiver.url), () => instance.log);
    const refused = await post("exec_tls_plain");
    assert.equal(refused.status, 503);
    await until(
      async () => (await statuses()).some((s) => /cb-in: store unreachable: .*TLS field is set but the URL/.test(s)),
      "status says why",
    );
    assert.match(
      instance.log,
      /the TLS field is set but the URL "redis:\/\/127\.0\.0\.1:\d+" starts with redis:\/\/ \(plain text\): change the URL to rediss:\/\//,
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(tap.sent.length, 0, "no connection made");
    assert.doesNotMatch(instance.log, new RegExp(PASSWORD));
  });
});
