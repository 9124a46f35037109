// callback in asked to listen on a port the user may not bind (below 1024, for a user without the
// privilege): a clear error in the log and the status, and the rest of the flow runs on. Node-RED
// runs as an unprivileged user: as root the test starts it as "nobody" (setpriv).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { NodeRedProcess, freePort, nodeRedVersion } from "../../support/node-red";
import { CommsWatcher } from "../../support/comms";
import { requestWhenUp } from "../../support/request";

const SECRET = "denied-port-secret";
/** A privileged port nothing here listens on. */
const DENIED_PORT = 81;
const NOBODY = 65534;

function callbackIn(id: string, port: number): Record<string, unknown> {
  return {
    id,
    z: "tab1",
    type: "agent-callback-in",
    name: `callback ${id}`,
    url: "/agent-results",
    verify: "secret",
    listen: "port",
    port,
    host: "127.0.0.1",
    wires: [[`${id}-log`], [], []],
    credentials: { secret: SECRET },
  };
}

function logger(id: string): Record<string, unknown> {
  return {
    id: `${id}-log`,
    z: "tab1",
    type: "debug",
    active: true,
    tosidebar: false,
    console: true,
    complete: "payload.execution_id",
    targetType: "msg",
    wires: [],
  };
}

describe(`callback in on a port it may not bind, in a real Node-RED ${nodeRedVersion()}`, function () {
  this.timeout(120_000);
  const asRoot = process.getuid?.() === 0;
  const red = new NodeRedProcess({
    launcher: asRoot ? ["setpriv", `--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", "--"] : [],
  });
  const comms = new CommsWatcher();

  before(async function () {
    // Where the kernel lets anyone bind low ports (some containers), there is no refusal to see.
    const firstUnprivileged = Number(readFileSync("/proc/sys/net/ipv4/ip_unprivileged_port_start", "utf8").trim());
    if (firstUnprivileged <= DENIED_PORT || process.platform !== "linux") this.skip();
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
    const flows = [
      { id: "tab1", type: "tab", label: "denied" },
      callbackIn("denied", DENIED_PORT),
      callbackIn("good", goodPort),
      logger("good"),
    ];
    const res = await fetch(`${red.url}/flows`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Node-RED-Deployment-Type": "full" },
      body: JSON.stringify(flows),
    });
    assert.ok(res.ok, `deploy: ${res.status} ${await res.text()}`);
    const deadline = Date.now() + 30_000;
    while (!(/Not allowed to listen on port 81/.test(red.log) && comms.status("denied")?.text === "cannot listen on port 81")) {
      if (Date.now() > deadline)
        throw new Error(`no refusal shown: status ${JSON.stringify(comms.status("denied"))}\n${red.log.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.match(red.log, /choose a Port of 1024 or above/);
    assert.equal(comms.status("denied")?.fill, "red");
    const body = JSON.stringify({
      agent_loop_id: "loop_denied",
      execution_id: "exec_denied_ok",
      status: "completed",
      result: { output: "ok" },
    });
    const reply = await requestWhenUp(`http://127.0.0.1:${goodPort}/agent-results`, {
      body,
      headers: { "Content-Type": "application/json", "X-Webhook-Secret": SECRET },
    });
    assert.equal(reply.status, 200, reply.text);
    const logged = Date.now() + 10_000;
    while (!red.log.includes("exec_denied_ok") && Date.now() < logged) await new Promise((r) => setTimeout(r, 50));
    assert.ok(red.log.includes("exec_denied_ok"), "the good node's callback reached the flow");
  });
});
