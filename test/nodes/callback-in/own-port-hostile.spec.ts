// callback in on a port of its own facing a host that holds connections (issue 19), in a real
// Node-RED: TCP connections that never start TLS neither stall a redeploy nor stay for 2 minutes,
// and one address holding idle connections cannot keep another sender out.
import assert from "node:assert/strict";
import net from "node:net";
import { NodeRedProcess, freePort, nodeRedVersion } from "../../support/node-red";
import { makeTestPki, type TestPki } from "../../support/tls";
import { requestWhenUp, type SimpleRequest } from "../../support/request";
import { rawPost } from "../../support/raw-client";
import { tcpSocketsOf } from "../../support/sockets";

const SECRET = "own-port-hostile-secret";
const HOLDER = "127.0.0.1";
const SENDER = "127.0.0.2";
type FlowNode = Record<string, unknown> & { id: string; type: string };

const tab: FlowNode = { id: "tab1", type: "tab", label: "own port under attack" };
const json = { "Content-Type": "application/json" };

function callbackIn(props: Record<string, unknown>): FlowNode {
  return {
    id: "in1",
    z: "tab1",
    type: "agent-callback-in",
    url: "/agent-results",
    verify: "secret",
    listen: "port",
    host: "127.0.0.1",
    rateLimit: 0,
    wires: [["log"], ["log"], ["log"]],
    credentials: { secret: SECRET },
    ...props,
  };
}

const logger: FlowNode = {
  id: "log",
  z: "tab1",
  type: "debug",
  active: true,
  tosidebar: false,
  console: true,
  complete: "payload.execution_id",
  targetType: "msg",
  wires: [],
};

function tlsConfig(pki: TestPki): FlowNode {
  return { id: "tls1", type: "tls-config", cert: "", key: "", ca: "", credentials: { certdata: pki.serverCert, keydata: pki.serverKey } };
}

const callback = (executionId: string): string =>
  JSON.stringify({ agent_loop_id: "loop_hostile", execution_id: executionId, status: "completed", result: { output: "ok" } });

const signed = (body: string, extra: SimpleRequest = {}): SimpleRequest => ({
  body,
  headers: { ...json, "X-Webhook-Secret": SECRET },
  ...extra,
});

/** A TCP connection that sends nothing, and whether (and when) the server closed it. */
interface Idle {
  socket: net.Socket;
  connected: Promise<boolean>;
  closed: boolean;
}

function idleConnection(port: number, localAddress = HOLDER): Idle {
  const socket = net.connect({ host: "127.0.0.1", port, localAddress });
  const idle: Idle = {
    socket,
    closed: false,
    connected: new Promise((resolve) => {
      socket.once("connect", () => resolve(true));
      socket.once("error", () => resolve(false));
    }),
  };
  socket.on("error", () => undefined);
  socket.once("close", () => (idle.closed = true));
  return idle;
}

async function waitUntilTrue(red: NodeRedProcess, what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${red.log.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe(`callback in on a port of its own, facing held connections, in a real Node-RED ${nodeRedVersion()}`, function () {
  this.timeout(180_000);
  const red = new NodeRedProcess();
  let pki: TestPki;
  const held: Idle[] = [];

  async function deploy(flow: FlowNode[]): Promise<void> {
    const started = (red.log.match(/Started flows/g) ?? []).length;
    const res = await fetch(`${red.url}/flows`, {
      method: "POST",
      headers: { ...json, "Node-RED-Deployment-Type": "full" },
      body: JSON.stringify(flow),
    });
    assert.ok(res.ok, `deploy: ${res.status} ${await res.text()}`);
    await waitUntilTrue(red, "the flows to restart", () => (red.log.match(/Started flows/g) ?? []).length > started, 60_000);
  }

  before(async () => {
    pki = makeTestPki();
    await red.start();
  });
  afterEach(() => {
    for (const idle of held.splice(0)) idle.socket.destroy();
  });
  after(async () => {
    await red.stop();
    red.cleanup();
    pki.cleanup();
  });

  it("HTTPS: connections that never start TLS do not stall a redeploy, the new server answers at once, and an idle one is dropped after the handshake limit", async () => {
    const port = await freePort();
    const url = `https://127.0.0.1:${port}/agent-results`;
    await deploy([tab, callbackIn({ port, tls: "tls1", name: "v1" }), logger, tlsConfig(pki)]);
    assert.equal((await requestWhenUp(url, signed(callback("exec_tls_before"), { ca: pki.ca }))).status, 200);
    for (let i = 0; i < 20; i++) held.push(idleConnection(port));
    assert.ok((await Promise.all(held.map((idle) => idle.connected))).every(Boolean), "the idle connections were made");
    const logBefore = red.log.length;
    await deploy([tab, callbackIn({ port, tls: "tls1", name: "v2" }), logger, tlsConfig(pki)]);
    assert.doesNotMatch(red.log.slice(logBefore), /Close timed out/);
    // Node-RED's close limit is 15 s; the server had to be up well within what requestWhenUp waits.
    const after = await requestWhenUp(url, signed(callback("exec_tls_after"), { ca: pki.ca }), 5_000);
    assert.equal(after.status, 200, after.text);
    await waitUntilTrue(red, "the callback after the redeploy", () => red.log.includes("exec_tls_after"), 10_000);
    assert.ok(
      held.every((idle) => idle.closed),
      "the old server's handshaking connections were destroyed",
    );
    // An idle connection to the new server is dropped by the handshake limit (10 s), not Node.js's 120 s.
    const idle = idleConnection(port);
    held.push(idle);
    assert.ok(await idle.connected);
    await waitUntilTrue(red, "the server to drop a connection that never starts TLS", () => idle.closed, 40_000);
  });

  it("1,100 idle connections from one address leave room for a genuine callback from another", async () => {
    const port = await freePort();
    await deploy([tab, callbackIn({ port, name: "plain" }), logger]);
    const url = `http://127.0.0.1:${port}/agent-results`;
    assert.equal((await requestWhenUp(url, signed(callback("exec_share_before")))).status, 200);
    for (let i = 0; i < 1100; i++) held.push(idleConnection(port));
    await Promise.all(held.map((idle) => idle.connected));
    // Every connection was taken or dropped by the server (the headers limit, 10 s, has not passed yet).
    const onServer = (): number => tcpSocketsOf(red.pid).filter((s) => s.localPort === port && s.state === "ESTABLISHED").length;
    await waitUntilTrue(
      red,
      "the server to settle every connection",
      () => held.filter((i) => i.closed).length + onServer() >= 1100,
      8_000,
    );
    const reply = await rawPost({
      url,
      headers: { ...json, "X-Webhook-Secret": SECRET },
      body: callback("exec_share_other"),
      localAddress: SENDER,
    });
    assert.equal(reply.status, 200, reply.text);
    await waitUntilTrue(red, "the other sender's callback", () => red.log.includes("exec_share_other"), 10_000);
    const stillOpen = held.filter((idle) => !idle.closed).length;
    assert.ok(stillOpen <= 250, `${HOLDER} holds ${stillOpen} connections, more than its quarter of 1,000`);
  });
});
