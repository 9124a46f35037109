// Example 9 in a real Node-RED: callback in on a port of its own with HTTPS. Deployed as a user
// would after following its comment: a certificate and key in the TLS config (uploaded, i.e. as
// credentials), a secret, and a port (a free one on 127.0.0.1 here instead of 8443 on all addresses).
import assert from "node:assert/strict";
import type { NodeRedProcess } from "../support/node-red";
import { freePort } from "../support/node-red";
import { makeTestPki, type TestPki } from "../support/tls";
import { request, requestWhenUp } from "../support/request";
import { DebugWatcher, asDeployment, completedPayload, deploy, failedPayload, loadExample, nodeOfType, startNodeRed, waitUntil } from "./support";

const FILE = "09 - Receive on a separate HTTPS port.json";
const SECRET = "own-port-example-secret";

describe(`example "${FILE}"`, function () {
  this.timeout(120_000);
  const nodes = loadExample(FILE);
  const callbackIn = nodeOfType(nodes, "agent-callback-in");
  const tlsConfig = nodeOfType(nodes, "tls-config");
  const watcher = new DebugWatcher();
  let red: NodeRedProcess | undefined;
  let pki: TestPki;
  let port = 0;

  before(async () => {
    pki = makeTestPki();
    port = await freePort();
    red = await startNodeRed();
    const deployed = asDeployment(nodes, {
      [callbackIn.id]: { secret: SECRET },
      [tlsConfig.id]: { certdata: pki.serverCert, keydata: pki.serverKey },
    }).map((n) => (n.id === callbackIn.id ? { ...n, port, host: "127.0.0.1" } : n));
    await deploy(red, deployed);
    await watcher.connect(red);
  });
  after(async () => {
    watcher.close();
    await red?.stop();
    red?.cleanup();
    pki.cleanup();
  });

  const post = (payload: unknown, secret: string | null = SECRET) =>
    requestWhenUp(`https://127.0.0.1:${port}${String(callbackIn.url)}`, {
      body: JSON.stringify(payload),
      headers: { "Content-Type": "application/json", ...(secret ? { "X-Webhook-Secret": secret } : {}) },
      ca: pki.ca,
    });

  it("ships listening on its own port 8443 with a TLS config, and no certificate, key or secret", () => {
    assert.equal(callbackIn.listen, "port");
    assert.equal(callbackIn.port, 8443);
    assert.equal(callbackIn.tls, tlsConfig.id);
    for (const node of nodes) assert.equal(node.credentials, undefined, `${node.type} ${node.id}`);
    assert.equal(tlsConfig.cert, "");
    assert.equal(tlsConfig.key, "");
  });

  it("receives callbacks over HTTPS on its port and shows each in the debug node of its status", async () => {
    const reply = await post(completedPayload("exec_https_example_1"));
    assert.equal(reply.status, 200, reply.text);
    assert.deepEqual(JSON.parse(reply.text), { received: true });
    assert.equal((await post(failedPayload("exec_https_example_2"))).status, 200);
    await waitUntil(
      () => watcher.from("completed").length >= 1 && watcher.from("failed").length >= 1,
      "the completed and failed debug messages",
      30_000,
      () => red?.log ?? "",
    );
    assert.equal((watcher.from("completed")[0] as { payload: { execution_id: string } }).payload.execution_id, "exec_https_example_1");
    assert.equal((watcher.from("failed")[0] as { payload: { execution_id: string } }).payload.execution_id, "exec_https_example_2");
  });

  it("refuses a callback without the secret, and serves nothing of Node-RED on that port", async () => {
    assert.equal((await post(completedPayload("exec_no_secret"), null)).status, 401);
    for (const path of ["/", "/flows", "/settings"]) {
      assert.equal((await request(`https://127.0.0.1:${port}${path}`, { ca: pki.ca })).status, 404, path);
    }
  });
});
