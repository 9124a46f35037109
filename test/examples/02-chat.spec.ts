// Example 2 in a real Node-RED: callbacks in, Slack / Teams / Discord webhook bodies out.
import assert from "node:assert/strict";
import type { NodeRedProcess } from "../support/node-red";
import { CommsWatcher } from "../support/comms";
import {
  Receiver,
  asDeployment,
  completedPayload,
  deploy,
  describeExample,
  failedPayload,
  loadExample,
  nodeOfType,
  postCallback,
  startNodeRed,
  timeoutPayload,
  waitUntil,
  type FlowNode,
} from "./support";

const FILE = "02 - Forward results to Slack, Teams or Discord.json";
const receiver = new Receiver();

describeExample(FILE, {
  secret: "chat-example-secret",
  beforeStart: () => receiver.start(),
  env: () => ({
    SLACK_WEBHOOK_URL: `${receiver.url}/slack`,
    TEAMS_WEBHOOK_URL: `${receiver.url}/teams`,
    DISCORD_WEBHOOK_URL: `${receiver.url}/discord`,
  }),
  afterStop: () => receiver.stop(),
}, (example) => {
  function bodies(service: string): unknown[] {
    return receiver.to(`/${service}`).map((r) => JSON.parse(r.body) as unknown);
  }

  function expected(title: string, text: string, color: string) {
    return {
      slack: { text: `${title}\n\n${text}`, username: "Agent Bot", icon_emoji: ":robot_face:" },
      teams: { "@type": "MessageCard", "@context": "https://schema.org/extensions", summary: title, themeColor: color, title, text },
      discord: { content: `**${title}**\n\n${text}`, username: "Agent Bot" },
    };
  }

  it("refuses a callback without the secret and posts nothing", async () => {
    const reply = await example.post(completedPayload("exec_no_secret"), { secret: null });
    assert.equal(reply.status, 401);
    const wrong = await example.post(completedPayload("exec_wrong_secret"), { secret: "wrong" });
    assert.equal(wrong.status, 401);
    assert.equal(receiver.requests.length, 0);
  });

  it("posts each service's exact incoming-webhook body for completed, failed and timeout results", async () => {
    for (const payload of [completedPayload(), failedPayload(), timeoutPayload()]) {
      const reply = await example.post(payload);
      assert.equal(reply.status, 200);
      assert.deepEqual(reply.body, { received: true });
    }
    await waitUntil(() => receiver.requests.length >= 9, "9 webhook posts", 30_000, () => example.red.log);

    const completed = expected("Agent Report: Daily Sales Report", completedPayload().result?.output ?? "", "2EB67D");
    const failed = expected("Agent loop failed: Daily Sales Report", "Tool call failed: HTTP 500 from API", "E01E5A");
    const timeout = expected(
      "Agent loop timed out: Daily Sales Report",
      "Execution timeout after 300 seconds\n\nPartial result:\nPartial result...",
      "ECB22E",
    );
    const sort = (list: unknown[]) => list.map((b) => JSON.stringify(b)).sort();
    for (const service of ["slack", "teams", "discord"] as const) {
      assert.deepEqual(sort(bodies(service)), sort([completed[service], failed[service], timeout[service]]), service);
      for (const request of receiver.to(`/${service}`)) {
        assert.equal(request.method, "POST");
        assert.match(String(request.headers["content-type"]), /^application\/json/);
      }
    }
  });

  it("cuts Discord's content to its 2000-character limit", async () => {
    const long = completedPayload("exec_long_output");
    long.result = { output: "x".repeat(3000), iterations_used: 1, tool_calls: 0 };
    const before = receiver.to("/discord").length;
    const reply = await example.post(long);
    assert.equal(reply.status, 200);
    await waitUntil(() => receiver.to("/discord").length > before, "the Discord post", 30_000);
    const body = bodies("discord").at(-1) as { content: string };
    assert.equal(body.content.length, 2000);
    assert.ok(body.content.startsWith("**Agent Report: Daily Sales Report**\n\nxxx"));
  });
});

describe(`example "${FILE}": webhook URLs set in the editor (the tab's environment variables)`, function () {
  this.timeout(120_000);
  const chat = new Receiver();
  const nodes = loadExample(FILE);
  const callbackIn = nodeOfType(nodes, "agent-callback-in");
  const chatMessage = nodeOfType(nodes, "function", "chat message");
  const secret = "chat-example-secret";
  const comms = new CommsWatcher();
  let red: NodeRedProcess;

  before(async () => {
    await chat.start();
    red = await startNodeRed();
    await comms.connect(red.url);
  });
  after(async () => {
    comms.close();
    await red?.stop();
    red?.cleanup();
    await chat.stop();
  });

  /** Deploys the example as imported, its tab holding the environment variables `env` (as the tab's edit dialog saves them). */
  async function deployWithTabEnv(env: Record<string, string>): Promise<void> {
    const flow = asDeployment(nodes, { [callbackIn.id]: { secret } });
    const tab = flow.find((n) => n.type === "tab") as FlowNode;
    tab.env = Object.entries(env).map(([name, value]) => ({ name, value, type: "str" }));
    await deploy(red, flow);
  }

  const post = (id: string) => postCallback(red, callbackIn.url as string, completedPayload(id), { "X-Webhook-Secret": secret });

  it("with no URL set, the chat message node says which URLs to set, and nothing is posted", async () => {
    await deployWithTabEnv({});
    await waitUntil(() => /set the Slack, Teams, Discord webhook URLs/.test(comms.status(chatMessage.id)?.text ?? ""), "the missing-URL status");
    const shown = comms.statuses.get(chatMessage.id)?.length ?? 0;
    assert.equal((await post("exec_no_urls")).status, 200);
    // The callback reached the node: it set its status again, for this msg.
    await waitUntil(() => (comms.statuses.get(chatMessage.id)?.length ?? 0) > shown, "the status after a callback");
    assert.match(comms.status(chatMessage.id)?.text ?? "", /^set the Slack, Teams, Discord webhook URLs in the tab's environment variables$/);
    assert.equal(comms.status(chatMessage.id)?.fill, "yellow");
    assert.equal(chat.requests.length, 0);
    assert.doesNotMatch(red.log, /ENOTFOUND/);
  });

  it("with only the Slack URL set in the tab, Slack gets the message and the status names the two still missing", async () => {
    await deployWithTabEnv({ SLACK_WEBHOOK_URL: `${chat.url}/slack` });
    await waitUntil(() => /^set the Teams, Discord webhook URLs/.test(comms.status(chatMessage.id)?.text ?? ""), "the status naming Teams and Discord");
    assert.equal((await post("exec_slack_only")).status, 200);
    await waitUntil(() => chat.to("/slack").length === 1, "the Slack post");
    assert.match((JSON.parse(chat.to("/slack")[0]?.body ?? "{}") as { text: string }).text, /^Agent Report: Daily Sales Report/);
    assert.equal(chat.requests.length, 1);
  });

  it("with every URL set, the status is cleared and each service gets its message", async () => {
    await deployWithTabEnv({
      SLACK_WEBHOOK_URL: `${chat.url}/slack`,
      TEAMS_WEBHOOK_URL: `${chat.url}/teams`,
      DISCORD_WEBHOOK_URL: `${chat.url}/discord`,
    });
    await waitUntil(() => (comms.status(chatMessage.id)?.text ?? "") === "", "the status cleared");
    const before = chat.requests.length;
    assert.equal((await post("exec_all_urls")).status, 200);
    await waitUntil(() => chat.requests.length === before + 3, "three posts");
    assert.deepEqual(chat.requests.slice(before).map((r) => r.url).sort(), ["/discord", "/slack", "/teams"]);
  });
});
