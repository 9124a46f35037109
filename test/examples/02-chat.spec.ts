// Example 2 in a real Node-RED: callbacks in, Slack / Teams / Discord webhook bodies out.
import assert from "node:assert/strict";
import { Receiver, completedPayload, describeExample, failedPayload, timeoutPayload, waitUntil } from "./support";

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
