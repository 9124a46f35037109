// callback in on a port of its own (listen: port) inside a real Node-RED started from its CLI:
// HTTP and HTTPS, mutual TLS, two nodes sharing a port, nothing of Node-RED on that port, errors
// that leave the flow running, redeploys that free the port and leak nothing, respond: flow.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { NodeRedProcess, freePort, nodeRedDir, nodeRedVersion, repoRoot } from "../../support/node-red";
import { CommsWatcher } from "../../support/comms";
import { makeTestPki, type TestPki } from "../../support/tls";
import { request, requestWhenUp, type SimpleRequest, type SimpleResponse } from "../../support/request";
import { tcpSocketsOf } from "../../support/sockets";

const SECRET = "own-port-secret";
type FlowNode = Record<string, unknown> & { id: string; type: string };

const tab: FlowNode = { id: "tab1", type: "tab", label: "own port" };

function callbackIn(id: string, props: Record<string, unknown>): FlowNode {
  return {
    id,
    z: "tab1",
    type: "agent-callback-in",
    name: `callback ${id}`,
    url: "/agent-results",
    verify: "secret",
    listen: "port",
    host: "127.0.0.1",
    wires: [[`${id}-log`], [`${id}-log`], [`${id}-log`]],
    credentials: { secret: SECRET },
    ...props,
  };
}

/** A debug node printing execution ids to the console, so they show in the child's log. */
function logger(id: string): FlowNode {
  return {
    id: `${id}-log`,
    z: "tab1",
    type: "debug",
    name: `log of ${id}`,
    active: true,
    tosidebar: false,
    console: true,
    complete: "payload.execution_id",
    targetType: "msg",
    wires: [],
  };
}

function tlsConfig(id: string, pki: TestPki, options: { mutual?: boolean; noCert?: boolean } = {}): FlowNode {
  return {
    id,
    type: "tls-config",
    name: `tls ${id}`,
    cert: "",
    key: "",
    ca: "",
    verifyservercert: options.mutual === true,
    credentials: options.noCert ? {} : { certdata: pki.serverCert, keydata: pki.serverKey, ...(options.mutual ? { cadata: pki.ca } : {}) },
  };
}

function callback(executionId: string): string {
  return JSON.stringify({ agent_loop_id: "loop_own", execution_id: executionId, status: "completed", result: { output: "ok" } });
}

const signed = (body: string, extra: SimpleRequest = {}): SimpleRequest => ({
  body,
  headers: { "Content-Type": "application/json", "X-Webhook-Secret": SECRET },
  ...extra,
});

/** Deploys `flow` through the admin API and waits until Node-RED says the flows (or nodes) started. */
async function deployTo(red: NodeRedProcess, flow: FlowNode[], type: "full" | "nodes" = "full"): Promise<void> {
  const started = (red.log.match(/Started (modified )?(flows|nodes)/g) ?? []).length;
  const res = await fetch(`${red.url}/flows`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "Node-RED-Deployment-Type": type },
    body: JSON.stringify(flow),
  });
  assert.ok(res.ok, `deploy: ${res.status} ${await res.text()}`);
  const deadline = Date.now() + 60_000;
  while ((red.log.match(/Started (modified )?(flows|nodes)/g) ?? []).length <= started) {
    if (Date.now() > deadline) throw new Error(`flows did not restart:\n${red.log}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Resolves once `check` holds (then the child's log tail in the error). */
async function waitUntilTrue(
  red: NodeRedProcess,
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${red.log.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe(`callback in on a port of its own, in a real Node-RED ${nodeRedVersion()}`, function () {
  this.timeout(180_000);
  const red = new NodeRedProcess();
  const comms = new CommsWatcher();
  let pki: TestPki;

  before(async () => {
    pki = makeTestPki();
    await red.start();
    await comms.connect(red.url);
  });
  after(async () => {
    comms.close();
    await red.stop();
    red.cleanup();
    pki.cleanup();
  });

  const deploy = (flow: FlowNode[], type: "full" | "nodes" = "full"): Promise<void> => deployTo(red, flow, type);

  const waitFor = (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> =>
    waitUntilTrue(red, what, check, timeoutMs);

  const statusText = (id: string): string => comms.status(id)?.text ?? "";

  /** Answers once the port accepts the callback (the server binds after the deploy). */
  const postWhenUp = (url: string, options: SimpleRequest): Promise<SimpleResponse> => requestWhenUp(url, options);

  it("receives over HTTP on its port, shows the endpoint in its status, and sends the callback on", async () => {
    const port = await freePort();
    await deploy([tab, callbackIn("in1", { port }), logger("in1")]);
    const res = await postWhenUp(`http://127.0.0.1:${port}/agent-results`, signed(callback("exec_http_1")));
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(JSON.parse(res.text), { received: true });
    await waitFor("the callback in the log", () => red.log.includes("exec_http_1"));
    await waitFor("the listening status", () => statusText("in1").includes(`http://127.0.0.1:${port}/agent-results`));
    const refused = await request(`http://127.0.0.1:${port}/agent-results`, {
      ...signed(callback("exec_http_2")),
      headers: { "Content-Type": "application/json" },
    });
    assert.equal(refused.status, 401);
    // Node-RED's own server does not have the path.
    const onNodeRed = await request(`${red.url}/agent-results`, signed(callback("exec_http_3")));
    assert.equal(onNodeRed.status, 404);
  });

  it("shares one port between two nodes, each on its path; the editor, admin API and anything else are 404 JSON there", async () => {
    const port = await freePort();
    await deploy([tab, callbackIn("a", { port, url: "/a" }), logger("a"), callbackIn("b", { port, url: "/b" }), logger("b")]);
    const base = `http://127.0.0.1:${port}`;
    assert.equal((await postWhenUp(`${base}/a`, signed(callback("exec_share_a")))).status, 200);
    assert.equal((await request(`${base}/b`, signed(callback("exec_share_b")))).status, 200);
    await waitFor("both callbacks", () => red.log.includes("exec_share_a") && red.log.includes("exec_share_b"));
    for (const path of ["/", "/flows", "/settings", "/nodes", "/red/red.min.js", "/auth/login", "/comms", "/agent-results"]) {
      const res = await request(base + path);
      assert.equal(res.status, 404, `${path}: ${res.status} ${res.text}`);
      assert.deepEqual(JSON.parse(res.text), { error: "Not found" });
    }
    assert.equal(
      (await request(`${base}/flows`, { method: "POST", body: "[]", headers: { "Content-Type": "application/json" } })).status,
      404,
    );
  });

  it("refuses a second node on the same path of the same port with an error in its status and the log", async () => {
    const port = await freePort();
    await deploy([tab, callbackIn("a", { port, url: "/same" }), logger("a"), callbackIn("b", { port, url: "/same" }), logger("b")]);
    await waitFor("the duplicate error", () => /already receives POST \/same on port/.test(red.log));
    await waitFor("a red status on one of them", () => [statusText("a"), statusText("b")].includes("path already in use"));
  });

  it("receives over HTTPS with a tls-config's certificate and key; plain HTTP gets no answer there", async () => {
    const port = await freePort();
    await deploy([tab, callbackIn("in1", { port, tls: "tls1" }), logger("in1"), tlsConfig("tls1", pki)]);
    const res = await postWhenUp(`https://127.0.0.1:${port}/agent-results`, signed(callback("exec_https_1"), { ca: pki.ca }));
    assert.equal(res.status, 200, res.text);
    await waitFor("the HTTPS callback in the log", () => red.log.includes("exec_https_1"));
    await waitFor("the https endpoint in the status", () => statusText("in1").includes(`https://127.0.0.1:${port}/agent-results`));
    await assert.rejects(request(`http://127.0.0.1:${port}/agent-results`, signed(callback("exec_https_2"))));
  });

  it("with mutual TLS refuses a sender without a client certificate and accepts one with a certificate of the CA", async () => {
    const port = await freePort();
    await deploy([tab, callbackIn("in1", { port, tls: "tls1" }), logger("in1"), tlsConfig("tls1", pki, { mutual: true })]);
    const url = `https://127.0.0.1:${port}/agent-results`;
    const ok = await postWhenUp(url, signed(callback("exec_mtls_ok"), { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey }));
    assert.equal(ok.status, 200, ok.text);
    await assert.rejects(request(url, signed(callback("exec_mtls_none"), { ca: pki.ca })));
    await waitFor("the accepted callback", () => red.log.includes("exec_mtls_ok"));
    assert.ok(!red.log.includes("exec_mtls_none"));
  });

  it("a tls config without certificate, a port in use (by another program or Node-RED itself), an address not on this machine: errors, and the flow runs on", async () => {
    const busy = net.createServer();
    const busyPort = await freePort();
    await new Promise<void>((resolve) => busy.listen(busyPort, "127.0.0.1", resolve));
    const goodPort = await freePort();
    try {
      await deploy([
        tab,
        callbackIn("nocert", { port: await freePort(), tls: "empty" }),
        tlsConfig("empty", pki, { noCert: true }),
        callbackIn("busy", { port: busyPort, url: "/busy" }),
        callbackIn("nodered", { port: red.port, url: "/nr" }),
        callbackIn("away", { port: await freePort(), host: "192.0.2.1", url: "/away" }),
        callbackIn("good", { port: goodPort, url: "/good" }),
        logger("good"),
      ]);
      await waitFor(
        "the four errors in the log",
        () =>
          /has no certificate and key/.test(red.log) &&
          new RegExp(`Port ${busyPort} on 127.0.0.1 is already in use`).test(red.log) &&
          new RegExp(`Port ${red.port} on 127.0.0.1 is already in use`).test(red.log) &&
          /Cannot listen on 192.0.2.1/.test(red.log),
      );
      await waitFor(
        "the statuses",
        () =>
          statusText("nocert") === "TLS config problem" &&
          statusText("busy") === `cannot listen on port ${busyPort}` &&
          statusText("nodered") === `cannot listen on port ${red.port}` &&
          statusText("away").startsWith("cannot listen"),
      );
      assert.equal(comms.status("busy")?.fill, "red");
      // The rest of the flow runs, and so does Node-RED (its editor still answers).
      const res = await postWhenUp(`http://127.0.0.1:${goodPort}/good`, signed(callback("exec_still_runs")));
      assert.equal(res.status, 200);
      await waitFor("the good node's callback", () => red.log.includes("exec_still_runs"));
      assert.equal((await fetch(`${red.url}/settings`)).status, 200);
    } finally {
      await new Promise<void>((resolve) => busy.close(() => resolve()));
    }
  });

  it("changing the port moves the server: the old port is free, the new one answers", async () => {
    const first = await freePort();
    const second = await freePort();
    await deploy([tab, callbackIn("in1", { port: first }), logger("in1")]);
    assert.equal((await postWhenUp(`http://127.0.0.1:${first}/agent-results`, signed(callback("exec_move_1")))).status, 200);
    await deploy([tab, callbackIn("in1", { port: second }), logger("in1")]);
    assert.equal((await postWhenUp(`http://127.0.0.1:${second}/agent-results`, signed(callback("exec_move_2")))).status, 200);
    await assert.rejects(request(`http://127.0.0.1:${first}/agent-results`, signed(callback("exec_move_3"))), /ECONNREFUSED/);
    // Free means another program can take it.
    const other = net.createServer();
    await new Promise<void>((resolve, reject) => {
      other.once("error", reject);
      other.listen(first, "127.0.0.1", resolve);
    });
    await new Promise<void>((resolve) => other.close(() => resolve()));
  });

  it("a deploy that does not touch the node keeps its kept-alive connection; one that restarts it closes the connection", async () => {
    const port = await freePort();
    const flow = [tab, callbackIn("in1", { port }), logger("in1"), { id: "other", z: "tab1", type: "comment", name: "v1", wires: [] }];
    await deploy(flow);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const url = `http://127.0.0.1:${port}/agent-results`;
    try {
      assert.equal((await postWhenUp(url, signed(callback("exec_keep_1"), { agent }))).status, 200);
      const socket = Object.values(agent.freeSockets).flat()[0];
      assert.ok(socket, "a kept-alive socket");
      let closed = false;
      socket.once("close", () => (closed = true));
      // As the editor deploys it: credentials are sent only for nodes whose credentials changed (a node sent with them counts as changed).
      const untouched = { ...flow[1] } as FlowNode;
      delete untouched.credentials;
      await deploy([tab, untouched, flow[2] as FlowNode, { id: "other", z: "tab1", type: "comment", name: "v2", wires: [] }], "nodes");
      assert.equal((await request(url, signed(callback("exec_keep_2"), { agent }))).status, 200);
      assert.equal(closed, false, "the untouched node's connection was closed");
      assert.equal(Object.values(agent.freeSockets).flat()[0], socket, "the same connection carried the next request");
      await deploy(flow, "full");
      await waitFor("the kept-alive connection to be closed by the restart", () => closed);
    } finally {
      agent.destroy();
    }
  });

  it("100 deploys leave one listener on the port and no leaked socket", async () => {
    const port = await freePort();
    const flow = (n: number): FlowNode[] => [tab, callbackIn("in1", { port, name: `in1 v${n}` }), logger("in1")];
    await deploy(flow(0));
    assert.equal((await postWhenUp(`http://127.0.0.1:${port}/agent-results`, signed(callback("exec_loop_0")))).status, 200);
    const before = tcpSocketsOf(red.pid).length;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let n = 1; n <= 100; n++) {
        await deploy(flow(n));
        // A kept-alive connection each tenth round, which the next deploy must close.
        if (n % 10 === 0) {
          const res = await postWhenUp(`http://127.0.0.1:${port}/agent-results`, signed(callback(`exec_loop_${n}`), { agent }));
          assert.equal(res.status, 200);
        }
      }
    } finally {
      agent.destroy();
    }
    assert.equal((await postWhenUp(`http://127.0.0.1:${port}/agent-results`, signed(callback("exec_loop_last")))).status, 200);
    await waitFor(
      "connections to the port to close",
      () => tcpSocketsOf(red.pid).filter((s) => s.localPort === port && s.state === "ESTABLISHED").length === 0,
    );
    const sockets = tcpSocketsOf(red.pid);
    assert.equal(sockets.filter((s) => s.localPort === port && s.state === "LISTEN").length, 1, JSON.stringify(sockets));
    assert.ok(sockets.length <= before + 1, `sockets before: ${before}, after: ${JSON.stringify(sockets)}`);
  });

  it("respond: flow is answered by a core http response node on the own port", async () => {
    const port = await freePort();
    await deploy([
      tab,
      callbackIn("in1", { port, respond: "flow", wires: [["fn"], [], []] }),
      {
        id: "fn",
        z: "tab1",
        type: "function",
        name: "answer",
        func: 'msg.statusCode = 202; msg.headers = { "X-From-Flow": "yes" }; msg.payload = { handled: msg.payload.execution_id, secretInMsg: `x-webhook-secret` in msg.req.headers }; return msg;',
        outputs: 1,
        wires: [["res"]],
      },
      { id: "res", z: "tab1", type: "http response", name: "", statusCode: "", headers: {}, wires: [] },
    ]);
    const res = await postWhenUp(`http://127.0.0.1:${port}/agent-results`, signed(callback("exec_flow_1")));
    assert.equal(res.status, 202, res.text);
    assert.equal(res.headers["x-from-flow"], "yes");
    assert.match(String(res.headers["content-type"]), /application\/json/);
    // The secret header was checked and is not handed to the flow (issue 11), on the own port too.
    assert.deepEqual(JSON.parse(res.text), { handled: "exec_flow_1", secretInMsg: false });
  });
});

/** Whether the user nobody can start Node.js and load Node-RED and this plugin from where they are (root's clone in /root: no). */
function nobodyCanRun(): boolean {
  const probe = `require(${JSON.stringify(path.join(nodeRedDir(), "package.json"))}); require(${JSON.stringify(path.join(repoRoot, "dist", "nodes", "callback-in.js"))});`;
  try {
    execFileSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "--", process.execPath, "-e", probe], {
      stdio: "ignore",
      cwd: "/",
    });
    return true;
  } catch {
    return false;
  }
}

// A port the user may not bind (below 1024 without the privilege). Node-RED runs as an unprivileged
// user: as root the test starts it as "nobody" (setpriv).
describe(`callback in on a port it may not bind, in a real Node-RED ${nodeRedVersion()}`, function () {
  this.timeout(120_000);
  const DENIED_PORT = 81;
  const NOBODY = 65534;
  const asRoot = process.getuid?.() === 0;
  const red = new NodeRedProcess({ launcher: asRoot ? ["setpriv", `--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", "--"] : [] });
  const comms = new CommsWatcher();

  before(async function () {
    const skip = (reason: string): never => {
      console.log(`      skipped: ${reason}`);
      return this.skip();
    };
    if (process.platform !== "linux") skip("binding a low port is refused this way on Linux only");
    // Where the kernel lets anyone bind low ports (some containers), there is no refusal to see.
    const firstUnprivileged = Number(readFileSync("/proc/sys/net/ipv4/ip_unprivileged_port_start", "utf8").trim());
    if (firstUnprivileged <= DENIED_PORT)
      skip(`any user may bind port ${DENIED_PORT} here (ip_unprivileged_port_start is ${firstUnprivileged})`);
    if (asRoot && !nobodyCanRun()) {
      skip(
        `the user nobody cannot read Node.js, Node-RED or this checkout (${repoRoot}), e.g. a clone in /root: run it from a readable folder`,
      );
    }
    if (asRoot) execFileSync("chown", ["-R", `${NOBODY}:${NOBODY}`, red.userDir]);
    await red.start();
    // The child really runs without the privilege (else the port would just open).
    const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${red.pid}/status`, "utf8"))?.[1];
    assert.notEqual(uid, "0", "Node-RED runs as an unprivileged user");
    await comms.connect(red.url);
  });
  after(async () => {
    comms.close();
    await red.stop();
    red.cleanup();
  });

  it("says the port needs privileges and which to choose, in the log and the status; the other node receives", async () => {
    const goodPort = await freePort();
    await deployTo(red, [
      tab,
      callbackIn("denied", { port: DENIED_PORT }),
      callbackIn("good", { port: goodPort }),
      logger("good"),
      logger("denied"),
    ]);
    await waitUntilTrue(
      red,
      "the refusal in the log and the status",
      () => /Not allowed to listen on port 81/.test(red.log) && comms.status("denied")?.text === "cannot listen on port 81",
    );
    assert.match(red.log, /choose a Port of 1024 or above/);
    assert.equal(comms.status("denied")?.fill, "red");
    const reply = await requestWhenUp(`http://127.0.0.1:${goodPort}/agent-results`, signed(callback("exec_denied_ok")));
    assert.equal(reply.status, 200, reply.text);
    await waitUntilTrue(red, "the good node's callback in the log", () => red.log.includes("exec_denied_ok"));
  });
});
