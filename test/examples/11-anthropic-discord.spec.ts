// Example 11 in a real Node-RED: Claude Managed Agents webhook events, signed as Anthropic signs them
// (the Anthropic SDK accepts each first), the session read back from a stand-in of the Anthropic API,
// posted to a stand-in Discord. Deployed as a user would after following its comment: the signing
// secret and the API key typed in, the API base pointed at the stand-in instead of api.anthropic.com.
import assert from "node:assert/strict";
import { anthropicEvents, anthropicSession, signingSecret } from "../support/platform-events";
import { waitUntil } from "./support";
import { usePlatformExample } from "./platform-example";

const FILE = "11 - Anthropic agent sessions to Discord.json";
const SECRET = signingSecret();
const API_KEY = "sk-ant-example-11-key-0123456789";

describe(`example "${FILE}"`, function () {
  this.timeout(120_000);
  const example = usePlatformExample(FILE, "anthropic", { secret: SECRET, apiKey: API_KEY }, { name: "DISCORD_WEBHOOK_URL", path: "/discord" });
  const { nodes, callbackIn, chat: discord, api, watcher, send } = example;
  const posts = (): string[] => discord.to("/discord").map((r) => (JSON.parse(r.body) as { content: string }).content);

  it("ships with Anthropic as Sender, Fetch the result on, four outputs, and no secret or key", () => {
    assert.equal(callbackIn.source, "anthropic");
    assert.equal(callbackIn.fetchResult, true);
    assert.equal((callbackIn.wires as unknown[]).length, 4);
    for (const node of nodes) assert.equal(node.credentials, undefined, `${node.type} ${node.id}`);
  });

  it("refuses an event signed with another secret and posts nothing", async () => {
    assert.equal(await send("session.status_idled", "sesn_forged", { secret: signingSecret() }), 401);
    assert.equal(discord.requests.length, 0);
  });

  it("posts the agent's last message when a session goes idle, once for a redelivered event; other events go to the debug node", async () => {
    api.routes.set("/v1/sessions/sesn_a", anthropicSession("sesn_a"));
    api.routes.set("/v1/sessions/sesn_a/events?order=desc&limit=50", anthropicEvents("Digest sent to 12 people."));
    api.routes.set("/v1/sessions/sesn_b", { ...anthropicSession("sesn_b"), status: "terminated" });
    api.routes.set("/v1/sessions/sesn_b/events?order=desc&limit=50", anthropicEvents("I could not reach the mail server."));
    assert.equal(await send("session.status_idled", "sesn_a", { webhookId: "msg_a" }), 200);
    assert.equal(await send("session.status_idled", "sesn_a", { webhookId: "msg_a" }), 200);
    assert.equal(await send("session.status_terminated", "sesn_b"), 200);
    assert.equal(await send("session.status_run_started", "sesn_c"), 200);
    await waitUntil(() => discord.requests.length >= 2 && watcher.from("other events").length >= 1, "2 Discord posts and 1 other event", 30_000, () => example.red().log ?? "");
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(posts().sort(), [
      "**Digest writer has finished**\n\nDigest sent to 12 people.",
      "**Digest writer stopped (session.status_terminated)**\n\nLast message:\nI could not reach the mail server.",
    ]);
    const other = watcher.from("other events")[0] as { topic: string; payload: { execution_id: string; status: unknown } };
    assert.equal(other.topic, "session.status_run_started");
    assert.deepEqual([other.payload.execution_id, other.payload.status], ["sesn_c", null]);
    assert.ok(api.requests.every((r) => r.headers["x-api-key"] === API_KEY));
    assert.ok(!(example.red().log ?? "").includes(API_KEY), "the key is in Node-RED's log");
  });

  it("simulate failed in the agent callbacks tab posts a sample to Discord, as a real event would (no Anthropic needed)", async () => {
    const before = discord.to("/discord").length;
    assert.equal(await example.simulate("failed"), 200);
    await waitUntil(() => discord.to("/discord").length > before, "the sample's Discord post", 30_000, () => example.red().log ?? "");
    assert.match(posts()[before] ?? "", /^\*\*Sample agent stopped \(session\.status_terminated\)\*\*/);
    assert.doesNotMatch(example.red().log ?? "", /TypeError/);
  });
});
