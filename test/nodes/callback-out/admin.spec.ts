// callback out as the editor and the admin API see it, in a real Node-RED child process: the
// type, its editor and help, its icon, the "send test" endpoint, and secrets kept out of
// flows.json, the log and the outbox journal.
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { NodeRedProcess } from "../../support/node-red";
import { Receiver } from "../../support/receiver";
import { feedNodes } from "../../support/feed-flow";

const SECRET = "secret-value-7f3a";
const TOKEN = "token-value-91bc";
const KEY = "signing-key-c0de";

describe("callback out in the editor and admin API (Node-RED child process)", function () {
  this.timeout(120_000);
  let nodeRed: NodeRedProcess;
  let receiver: Receiver;

  before(async () => {
    receiver = await new Receiver().start();
    nodeRed = new NodeRedProcess({ flows: [] });
    await nodeRed.start();
    const flows = [
      { id: "tab", type: "tab", label: "admin" },
      ...feedNodes("out", { x: 100, y: 100 }),
      {
        id: "out",
        type: "agent-callback-out",
        z: "tab",
        url: receiver.url,
        agentLoopId: "loop_admin",
        signature: "hmac-sha256",
        retrySchedule: [0.1],
        credentials: { secret: SECRET, token: TOKEN, signingKey: KEY },
        x: 300,
        y: 100,
        wires: [[], []],
      },
    ];
    const res = await fetch(`${nodeRed.url}/flows`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Node-RED-Deployment-Type": "full" },
      body: JSON.stringify(flows),
    });
    assert.equal(res.status, 204, await res.text());
    await nodeRed.waitFor(/Started flows[\s\S]*Started flows/);
  });

  after(async () => {
    await nodeRed.stop();
    nodeRed.cleanup();
    await receiver.stop();
  });

  it("registers the type with its editor, help, category and icon", async () => {
    const list = (await (await fetch(`${nodeRed.url}/nodes`, { headers: { Accept: "application/json" } })).json()) as Array<{
      module: string;
      types: string[];
      enabled: boolean;
      err?: string;
    }>;
    const set = list.find((s) => s.types.includes("agent-callback-out"));
    assert.ok(set, "agent-callback-out is registered");
    assert.equal(set.module, "node-red-contrib-agent-callback");
    assert.equal(set.err, undefined);

    const html = await (await fetch(`${nodeRed.url}/nodes`, { headers: { Accept: "text/html" } })).text();
    assert.match(html, /registerType\("agent-callback-out"/);
    assert.match(html, /category: "agent callback"/);
    assert.match(html, /data-help-name="agent-callback-out"/);
    assert.match(html, /<h3>Inputs<\/h3>[\s\S]*<h3>Outputs<\/h3>[\s\S]*<h3>Details<\/h3>/);

    const icons = (await (await fetch(`${nodeRed.url}/icons`)).json()) as Record<string, string[]>;
    assert.ok(icons["node-red-contrib-agent-callback"]?.includes("callback-out.svg"), JSON.stringify(icons));
    const icon = await fetch(`${nodeRed.url}/icons/node-red-contrib-agent-callback/callback-out.svg`);
    assert.equal(icon.status, 200);
    assert.match(await icon.text(), /<svg/);

    const messages = (await (await fetch(`${nodeRed.url}/nodes/messages?lng=en-US`)).json()) as Record<string, unknown>;
    const ours = messages["node-red-contrib-agent-callback/agent-callback-out"] as
      { "agent-callback-out"?: { status?: { delivered?: string } } } | undefined;
    assert.equal(ours?.["agent-callback-out"]?.status?.delivered, "delivered __code__");
  });

  it("answers the editor's 'send test' button with the receiver's reply", async () => {
    const res = await fetch(`${nodeRed.url}/agent-callback-out/out/test`, { method: "POST" });
    assert.equal(res.status, 200);
    const reply = (await res.json()) as { statusCode: number; payload: unknown };
    assert.equal(reply.statusCode, 200);
    assert.deepEqual(reply.payload, { received: true });
    assert.equal(receiver.requests.at(-1)?.json.agent_loop_name, "Daily Sales Report");
    assert.equal((await fetch(`${nodeRed.url}/agent-callback-out/missing/test`, { method: "POST" })).status, 404);
  });

  it("keeps secret, token and signing key out of flows.json, the log and the outbox journal", async () => {
    receiver.replies = [{ status: 500 }];
    const before = receiver.requests.length;
    const fed = await fetch(`${nodeRed.url}/feed`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: '{"output":"hello"}',
    });
    assert.equal(fed.status, 200);
    await receiver.count(before + 2);
    const sent = receiver.requests.at(-1)!;
    assert.equal(sent.headers["x-webhook-secret"], SECRET, "the credentials are sent");
    assert.equal(sent.headers.authorization, `Bearer ${TOKEN}`);

    const flowsFile = readFileSync(path.join(nodeRed.userDir, "flows.json"), "utf8");
    const journalDir = path.join(nodeRed.userDir, "agent-callback-outbox");
    const journals = readdirSync(journalDir)
      .map((file) => readFileSync(path.join(journalDir, file), "utf8"))
      .join("\n");
    const apiFlows = await (await fetch(`${nodeRed.url}/flows`)).text();
    for (const [where, text] of Object.entries({ "flows.json": flowsFile, log: nodeRed.log, journal: journals, "GET /flows": apiFlows })) {
      for (const secret of [SECRET, TOKEN, KEY]) assert.ok(!text.includes(secret), `${where} contains a credential`);
    }
  });
});
