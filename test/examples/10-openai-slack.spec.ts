// Example 10 in a real Node-RED: OpenAI's webhook events, signed as OpenAI signs them (the openai
// SDK accepts each first), read back from a stand-in of the OpenAI API, posted to a stand-in Slack.
// Deployed as a user would after following its comment: the signing secret and the API key typed
// in, the API base pointed at the stand-in instead of api.openai.com.
import assert from "node:assert/strict";
import { openAiResponse, signingSecret } from "../support/platform-events";
import { waitUntil } from "./support";
import { usePlatformExample } from "./platform-example";

const FILE = "10 - OpenAI background responses to Slack.json";
const SECRET = signingSecret();
const API_KEY = "sk-example-10-key-0123456789";

describe(`example "${FILE}"`, function () {
  this.timeout(120_000);
  const example = usePlatformExample(FILE, "openai", { secret: SECRET, apiKey: API_KEY }, { name: "SLACK_WEBHOOK_URL", path: "/slack" });
  const { nodes, callbackIn, chat: slack, api, watcher, send } = example;
  const slackTexts = (): string[] => slack.to("/slack").map((r) => (JSON.parse(r.body) as { text: string }).text);

  it("ships with OpenAI as Sender, Fetch the result on, four outputs, and no secret or key", () => {
    assert.equal(callbackIn.source, "openai");
    assert.equal(callbackIn.fetchResult, true);
    assert.equal((callbackIn.wires as unknown[]).length, 4);
    for (const node of nodes) assert.equal(node.credentials, undefined, `${node.type} ${node.id}`);
  });

  it("refuses an event signed with another secret and posts nothing", async () => {
    assert.equal(await send("response.completed", "resp_forged", { secret: signingSecret() }), 401);
    assert.equal(slack.requests.length, 0);
  });

  it("posts a completed response's text and a failed one's error to Slack; other events go to the debug node", async () => {
    api.routes.set("/v1/responses/resp_done", openAiResponse("resp_done", ["Sales are ", "up 12%."]));
    api.routes.set("/v1/responses/resp_bad", { ...openAiResponse("resp_bad"), status: "failed", error: { code: "server_error", message: "The model crashed" } });
    assert.equal(await send("response.completed", "resp_done"), 200);
    assert.equal(await send("response.failed", "resp_bad"), 200);
    assert.equal(await send("batch.completed", "batch_1"), 200);
    assert.equal(await send("fine_tuning.job.created", "ftjob_1"), 200);
    await waitUntil(() => slack.requests.length >= 3 && watcher.from("other events").length >= 1, "3 Slack posts and 1 other event", 30_000, () => example.red().log ?? "");
    assert.deepEqual(slackTexts().sort(), [
      "*OpenAI batch batch_1 is done*\n\n(no text)",
      "*OpenAI response resp_bad: response.failed* (gpt-5-mini)\n\nThe model crashed",
      "*OpenAI response resp_done is done* (gpt-5-mini)\n\nSales are up 12%.",
    ]);
    const other = watcher.from("other events")[0] as { topic: string; event: { data: { id: string } } };
    assert.equal(other.topic, "fine_tuning.job.created");
    assert.equal(other.event.data.id, "ftjob_1");
    assert.equal(api.requests.filter((r) => r.headers.authorization === `Bearer ${API_KEY}`).length, 2);
    assert.ok(!(example.red().log ?? "").includes(API_KEY), "the key is in Node-RED's log");
  });

  it("simulate completed in the agent callbacks tab posts a sample to Slack, as a real event would (no OpenAI needed)", async () => {
    const before = slack.to("/slack").length;
    assert.equal(await example.simulate("completed"), 200);
    await waitUntil(() => slack.to("/slack").length > before, "the sample's Slack post", 30_000, () => example.red().log ?? "");
    const text = slackTexts()[before] ?? "";
    assert.match(text, /^\*OpenAI response resp_sim_[0-9a-f]+ is done\* \(gpt-5-mini\)\n\nSample result: /);
    assert.doesNotMatch(example.red().log ?? "", /TypeError/);
  });
});
