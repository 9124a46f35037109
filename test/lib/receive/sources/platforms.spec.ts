// The platform modules without Node-RED: the text of a response as the openai SDK makes its
// output_text, the last agent message of a session's events, and the settings a platform implies.
import assert from "node:assert/strict";
import { outputText, withResponse } from "../../../../nodes/lib/receive/sources/openai";
import { lastAgentMessage } from "../../../../nodes/lib/receive/sources/anthropic";
import { readSettings } from "../../../../nodes/lib/receive/settings";
import { AGENT_LOOP, outputCount } from "../../../../nodes/lib/receive/sources/source";
import { openAiResponse, anthropicEvents } from "../../../support/platform-events";

describe("platform sources", () => {
  it("outputText joins every output_text part of message items, skipping refusals and other items", () => {
    const response = openAiResponse("resp_1", ["a", "b"]);
    (response.output as unknown[]).push(
      {
        type: "message",
        content: [
          { type: "refusal", refusal: "no" },
          { type: "output_text", text: "c" },
        ],
      },
      { type: "function_call", name: "f", arguments: "{}" },
    );
    assert.equal(outputText(response), "abc");
    assert.equal(outputText({ output: null }), "");
  });

  it("withResponse: a response without usage or times leaves those null", () => {
    const base = { agent_loop_id: null, execution_id: "resp_x", status: "completed" as const, result: null, metadata: null, error: null };
    const got = withResponse(base, { id: "resp_x", output: [] });
    assert.deepEqual(got.metadata, { started_at: null, completed_at: null, duration_seconds: null, model: null, tokens_used: null });
    assert.deepEqual(got.result, { output: "" });
  });

  it("lastAgentMessage takes the newest agent.message of a page listed newest first", () => {
    assert.equal(lastAgentMessage(anthropicEvents("done")), "done");
    assert.equal(lastAgentMessage({ data: [{ type: "user.message", content: [{ type: "text", text: "hi" }] }] }), null);
    assert.equal(lastAgentMessage("nonsense"), null);
  });

  it("a platform as Sender: Standard Webhooks whatever verify says, answered at once, four outputs, the platform's API", () => {
    const openai = readSettings(
      { source: "openai", verify: "secret", respond: "flow", fetchResult: true },
      "whsec_" + "A".repeat(32),
    ).settings;
    assert.equal(openai.verify, "standard-webhooks");
    assert.equal(openai.respondInFlow, false);
    assert.equal(openai.fetchResult, true);
    assert.equal(openai.apiBase, "https://api.openai.com/v1");
    assert.equal(outputCount(openai.source), 4);
    const anthropic = readSettings({ source: "anthropic", apiBase: "http://gateway.local/v1/" }, "").settings;
    assert.equal(anthropic.apiBase, "http://gateway.local/v1");
    assert.equal(readSettings({ source: "anthropic", apiBase: "ftp://x" }, "").settings.apiBase, "https://api.anthropic.com/v1");
    const agentLoop = readSettings({ verify: "secret", respond: "flow", fetchResult: true }, "s").settings;
    assert.deepEqual(
      [agentLoop.source, agentLoop.verify, agentLoop.respondInFlow, agentLoop.fetchResult],
      ["agent-loop", "secret", true, false],
    );
    assert.equal(outputCount(agentLoop.source), 3);
    assert.equal(AGENT_LOOP.read({ execution_id: "x" }, {}).ok, false);
  });
});
