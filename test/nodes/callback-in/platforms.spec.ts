// callback in with OpenAI or Anthropic as its Sender, in a real Node-RED runtime over real HTTP on
// 127.0.0.1: events signed as the platforms sign them (each first accepted by the platform's own
// SDK) are routed by type to four outputs, deduplicated by webhook-id, refused when the signature
// or its time is wrong, and their result is read back from a local stand-in of the platform's API.
import assert from "node:assert/strict";
import type { Application } from "express";
import supertest from "supertest";
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import callbackIn from "../../../nodes/callback-in";
import { freePort } from "../../support/node-red";
import { helper } from "../../support/test-helper";
import {
  anthropicEvents,
  anthropicSession,
  assertSdkAccepts,
  openAiResponse,
  platformEvent,
  PlatformApi,
  sign,
  signingSecret,
  type Platform,
  type Signed,
} from "../../support/platform-events";

interface Msg {
  payload?: Record<string, unknown> & { result?: { output?: unknown } | null; metadata?: Record<string, unknown> | null };
  topic?: unknown;
  event?: unknown;
  fetchError?: unknown;
  [key: string]: unknown;
}

const OUTPUTS = ["completed", "failed", "timeout", "other"] as const;
const PATH = "/platform-events";
const SECRET = signingSecret();
const API_KEY = "sk-test-" + "k3y".repeat(12);

class Outputs {
  readonly got: Array<{ output: string; msg: Msg }> = [];
  constructor() {
    for (const output of OUTPUTS) helper.getNode<Msg>(output).on("input", (msg) => this.got.push({ output, msg }));
  }
  async waitFor(n: number, timeoutMs = 20_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.got.length < n) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${n} msg(s), got ${this.got.length}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

let app: Application;
const captureApp = (RED: { httpNode: Application }): void => {
  app = RED.httpNode;
};

async function load(source: Platform, props: Record<string, unknown> = {}, apiKey = API_KEY): Promise<Outputs> {
  const node = { id: "in", type: "agent-callback-in", url: PATH, source, wires: OUTPUTS.map((o) => [o]), ...props };
  const sinks = OUTPUTS.map((id) => ({ id, type: "helper" }));
  await helper.load([captureApp, callbackIn], [node, ...sinks], { in: { secret: SECRET, apiKey } });
  return new Outputs();
}

async function post(signed: Signed): Promise<supertest.Response> {
  const request = supertest(app).post(PATH);
  for (const [k, v] of Object.entries(signed.headers)) request.set(k, v);
  return request.send(signed.body);
}

/** Signs an event, has the platform's SDK accept it, and posts it. */
async function deliver(
  platform: Platform,
  event: Record<string, unknown>,
  options: Parameters<typeof sign>[2] = {},
): Promise<supertest.Response> {
  const signed = sign(SECRET, event, options);
  await assertSdkAccepts(platform, SECRET, signed);
  return post(signed);
}

/** The routing table of issue 20, written out here so that a mistake in the node's copy shows. */
const TABLE: Record<Platform, Record<(typeof OUTPUTS)[number], string[]>> = {
  openai: {
    completed: ["response.completed", "batch.completed", "agent.session.idle", "fine_tuning.job.succeeded", "eval.run.succeeded"],
    failed: [
      "response.failed",
      "response.cancelled",
      "batch.failed",
      "batch.cancelled",
      "agent.session.failed",
      "fine_tuning.job.failed",
      "fine_tuning.job.cancelled",
      "eval.run.failed",
      "eval.run.canceled",
    ],
    timeout: ["response.incomplete", "batch.expired"],
    other: ["agent.session.action_required", "agent.session.created", "realtime.call.incoming"],
  },
  anthropic: {
    completed: ["session.status_idled", "deployment_run.succeeded"],
    failed: ["session.status_terminated", "deployment_run.failed"],
    timeout: ["session.budget_reached"],
    other: ["session.status_run_started", "session.requires_action", "vault.created"],
  },
};

/** Every row of the table as [type, output]. */
function table(platform: Platform): Array<[string, (typeof OUTPUTS)[number]]> {
  return OUTPUTS.flatMap((output) => TABLE[platform][output].map((type): [string, (typeof OUTPUTS)[number]] => [type, output]));
}

const logged = (): string => JSON.stringify(helper.log().args);

describe("callback in with a platform as Sender", function () {
  this.timeout(60_000);
  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(async () => {
    await helper.unload();
  });

  for (const platform of ["openai", "anthropic"] as const) {
    describe(platform, () => {
      it("routes every event type of the table to its output, 200 each, msg in the agent-loop form with the event as received", async () => {
        const outputs = await load(platform);
        const rows = table(platform);
        for (const [i, [type]] of rows.entries()) {
          const res = await deliver(platform, platformEvent(platform, type, `obj_${i}`));
          assert.equal(res.status, 200, `${type}: ${res.text}`);
          assert.deepEqual(res.body, { received: true });
        }
        await outputs.waitFor(rows.length);
        assert.equal(outputs.got.length, rows.length);
        for (const [i, [type, output]] of rows.entries()) {
          const got = outputs.got.find((g) => g.msg.topic === type);
          assert.ok(got, `${type} emitted`);
          assert.equal(got.output, output, type);
          const payload = got.msg.payload ?? {};
          assert.equal(payload.execution_id, `obj_${i}`);
          assert.equal(payload.status, output === "other" ? null : output);
          assert.equal(payload.result, null);
          assert.equal(payload.error, null);
          const event = got.msg.event as { data: { id: string } };
          assert.equal(event.data.id, `obj_${i}`);
          assert.equal(got.msg.fetchError, undefined);
        }
      });

      it("a redelivery with the same webhook-id is answered 200 duplicate and not emitted again; another webhook-id is", async () => {
        const outputs = await load(platform);
        const type = platform === "openai" ? "response.completed" : "session.status_idled";
        const event = platformEvent(platform, type, "obj_dup");
        assert.equal((await deliver(platform, event, { webhookId: "msg_same" })).status, 200);
        const again = await deliver(platform, event, { webhookId: "msg_same" });
        assert.equal(again.status, 200);
        assert.deepEqual(again.body, { received: true, duplicate: true });
        assert.equal((await deliver(platform, platformEvent(platform, type, "obj_next"), { webhookId: "msg_other" })).status, 200);
        await outputs.waitFor(2);
        await new Promise((resolve) => setTimeout(resolve, 200));
        assert.deepEqual(
          outputs.got.map((g) => g.msg.payload?.execution_id),
          ["obj_dup", "obj_next"],
        );
      });

      it("a wrong signing secret and a stale timestamp are answered 401 and nothing is emitted; verify does not apply", async () => {
        // verify: secret would refuse a request without X-Webhook-Secret: a platform ignores it.
        const outputs = await load(platform, { verify: "secret", tolerance: 300 });
        const type = platform === "openai" ? "response.completed" : "session.status_idled";
        const wrong = sign(signingSecret(), platformEvent(platform, type, "obj_wrong"));
        assert.equal((await post(wrong)).status, 401);
        const stale = sign(SECRET, platformEvent(platform, type, "obj_stale"), { at: new Date(Date.now() - 600_000) });
        assert.equal((await post(stale)).status, 401);
        assert.equal((await deliver(platform, platformEvent(platform, type, "obj_good"))).status, 200);
        await outputs.waitFor(1);
        await new Promise((resolve) => setTimeout(resolve, 200));
        assert.deepEqual(
          outputs.got.map((g) => g.msg.payload?.execution_id),
          ["obj_good"],
        );
      });
    });
  }

  describe("Fetch the result", () => {
    let api: PlatformApi;
    beforeEach(async () => {
      api = await new PlatformApi().start();
    });
    afterEach(() => api.stop());

    it("OpenAI: reads the response back; the msg has what the openai SDK itself reads from the same API", async () => {
      api.routes.set("/v1/responses/resp_1", openAiResponse("resp_1"));
      const sdk = await new OpenAI({ apiKey: API_KEY, baseURL: `${api.base}/v1` }).responses.retrieve("resp_1");
      const outputs = await load("openai", { fetchResult: true, apiBase: `${api.base}/v1/` });
      const res = await deliver("openai", platformEvent("openai", "response.completed", "resp_1"));
      assert.deepEqual(res.body, { received: true });
      await outputs.waitFor(1);
      const { output, msg } = outputs.got[0] ?? { output: "", msg: {} as Msg };
      assert.equal(output, "completed");
      assert.equal(msg.payload?.result?.output, sdk.output_text);
      assert.equal(sdk.output_text, "The report: all green.");
      assert.deepEqual(msg.payload?.metadata, {
        started_at: "2025-12-06T05:46:40.000Z",
        completed_at: "2025-12-06T05:47:22.000Z",
        duration_seconds: 42,
        model: sdk.model,
        tokens_used: sdk.usage?.total_tokens,
      });
      assert.equal(msg.fetchError, undefined);
      const read = api.requests.find((r) => r.path === "/v1/responses/resp_1");
      assert.equal(read?.headers.authorization, `Bearer ${API_KEY}`);
      assert.ok(!JSON.stringify(msg).includes(API_KEY), "the key is in no msg");
      assert.ok(!logged().includes(API_KEY), "the key is in no log line");
      const sidebar = (helper.getNode("in") as unknown as { agentCallbackDeliveries: { view(): unknown } }).agentCallbackDeliveries.view();
      assert.ok(!JSON.stringify(sidebar).includes(API_KEY), "the key is not in the sidebar's view");
    });

    it("OpenAI: a failed response's error message and an incomplete one's reason fill payload.error", async () => {
      api.routes.set("/v1/responses/resp_f", {
        ...openAiResponse("resp_f"),
        status: "failed",
        error: { code: "server_error", message: "The model crashed" },
      });
      api.routes.set("/v1/responses/resp_i", {
        ...openAiResponse("resp_i"),
        status: "incomplete",
        incomplete_details: { reason: "max_output_tokens" },
      });
      const outputs = await load("openai", { fetchResult: true, apiBase: `${api.base}/v1` });
      await deliver("openai", platformEvent("openai", "response.failed", "resp_f"));
      await outputs.waitFor(1);
      await deliver("openai", platformEvent("openai", "response.incomplete", "resp_i"));
      await outputs.waitFor(2);
      assert.deepEqual(
        outputs.got.map((g) => [g.output, g.msg.payload?.error]),
        [
          ["failed", "The model crashed"],
          ["timeout", "max_output_tokens"],
        ],
      );
    });

    it("Anthropic: reads the session and its last agent message, as the Anthropic SDK reads them", async () => {
      api.routes.set("/v1/sessions/sesn_1", anthropicSession("sesn_1"));
      api.routes.set("/v1/sessions/sesn_1/events?order=desc&limit=50", anthropicEvents("Digest sent to 12 people."));
      const sdk = await new Anthropic({ apiKey: API_KEY, baseURL: api.base }).beta.sessions.retrieve("sesn_1");
      const outputs = await load("anthropic", { fetchResult: true, apiBase: `${api.base}/v1` });
      await deliver("anthropic", platformEvent("anthropic", "session.status_idled", "sesn_1"));
      await outputs.waitFor(1);
      const { output, msg } = outputs.got[0] ?? { output: "", msg: {} as Msg };
      assert.equal(output, "completed");
      assert.equal(msg.payload?.agent_loop_id, sdk.agent.id);
      assert.equal(msg.payload?.agent_loop_name, sdk.agent.name);
      assert.equal(msg.payload?.result?.output, "Digest sent to 12 people.");
      assert.deepEqual(msg.payload?.metadata, {
        started_at: "2026-12-06T10:00:00.000Z",
        completed_at: "2026-12-06T10:03:20.000Z",
        duration_seconds: sdk.stats.duration_seconds,
        model: sdk.agent.model.id,
        tokens_used: 1000,
      });
      const read = api.requests.find((r) => r.path === "/v1/sessions/sesn_1" && r.headers["x-api-key"] === API_KEY);
      assert.ok(read, "the session was read with the key in x-api-key");
      assert.equal(read.headers["anthropic-beta"], "managed-agents-2026-04-01");
      assert.ok(!JSON.stringify(msg).includes(API_KEY), "the key is in no msg");
      assert.ok(!logged().includes(API_KEY), "the key is in no log line");
    });

    it("the API down: the event is answered at once, the msg comes after the tries with result null and fetchError, logged once", async () => {
      const closed = await freePort();
      const outputs = await load("openai", { fetchResult: true, apiBase: `http://127.0.0.1:${closed}/v1` });
      const res = await deliver("openai", platformEvent("openai", "response.completed", "resp_down"));
      assert.deepEqual(res.body, { received: true });
      await outputs.waitFor(1, 30_000);
      const { output, msg } = outputs.got[0] ?? { output: "", msg: {} as Msg };
      assert.equal(output, "completed");
      assert.equal(msg.payload?.result, null);
      assert.match(
        String(msg.fetchError),
        new RegExp(`GET http://127\\.0\\.0\\.1:${closed}/v1/responses/resp_down: .*ECONNREFUSED.*\\(\\d+ tries\\)`),
      );
      const warnings = helper
        .log()
        .args.filter(([e]) => e.level === helper.log().WARN && e.id === "in" && String(e.msg).includes("resp_down"));
      assert.equal(warnings.length, 1, logged());
      assert.ok(!JSON.stringify(msg).includes(API_KEY), "the key is in no msg");
      assert.ok(!logged().includes(API_KEY), "the key is in no log line");
    });

    it("without Fetch the result nothing is read from the API and the key is not needed", async () => {
      api.routes.set("/v1/responses/resp_2", openAiResponse("resp_2"));
      const outputs = await load("openai", { apiBase: `${api.base}/v1` }, "");
      await deliver("openai", platformEvent("openai", "response.completed", "resp_2"));
      await outputs.waitFor(1);
      assert.equal(outputs.got[0]?.msg.payload?.result, null);
      assert.equal(api.requests.length, 0);
    });
  });

  describe("the agent callbacks tab: simulate and replay", () => {
    let api: PlatformApi;
    beforeEach(async () => {
      api = await new PlatformApi().start();
    });
    afterEach(() => api.stop());
    const sidebar = (): { simulate(status: string): unknown; replay(id: number): unknown; view(): { requests: Array<{ id: number }> } } =>
      (helper.getNode("in") as unknown as { agentCallbackDeliveries: never }).agentCallbackDeliveries;

    for (const platform of ["openai", "anthropic"] as const) {
      it(`${platform}: simulate sends a made-up ${platform} event of each status, as the flow gets a real one, without asking the API`, async () => {
        const outputs = await load(platform, { fetchResult: true, apiBase: `${api.base}/v1` });
        for (const status of ["completed", "failed", "timeout"] as const) sidebar().simulate(status);
        await outputs.waitFor(3);
        for (const [i, status] of (["completed", "failed", "timeout"] as const).entries()) {
          const { output, msg } = outputs.got[i] ?? { output: "", msg: {} as Msg };
          const type = TABLE[platform][status][0];
          assert.equal(output, status);
          assert.equal(msg.topic, type, "msg.topic is the event type, as for a real event");
          const event = msg.event as { type?: string; data?: { type?: string; id?: string } };
          assert.equal(platform === "openai" ? event.type : event.data?.type, type);
          assert.equal(msg.payload?.execution_id, event.data?.id);
          assert.equal(msg.payload?.status, status);
          assert.match(String(msg.payload?.result?.output), /^Sample result: /);
          assert.ok(msg.payload?.metadata?.model, "a model, as a result read back has");
          assert.equal(msg.simulated, true);
          assert.equal(msg.fetchError, undefined);
        }
        assert.equal(api.requests.length, 0, "a made-up event is not looked up");
        const listed = (sidebar().view() as unknown as { requests: Array<{ outcome: string; output: string }> }).requests;
        assert.deepEqual(
          listed.map((r) => [r.outcome, r.output]),
          [
            ["simulated", "timeout"],
            ["simulated", "failed"],
            ["simulated", "completed"],
          ],
        );
      });
    }

    it("openai: replay sends the event again as received (msg.event, msg.topic) with its result read back again", async () => {
      api.routes.set("/v1/responses/resp_r", openAiResponse("resp_r"));
      const outputs = await load("openai", { fetchResult: true, apiBase: `${api.base}/v1` });
      await deliver("openai", platformEvent("openai", "response.completed", "resp_r"));
      await outputs.waitFor(1);
      const [request] = sidebar().view().requests;
      assert.deepEqual(sidebar().replay((request as { id: number }).id), { ok: true, executionId: "resp_r", output: "completed" });
      await outputs.waitFor(2);
      const [first, again] = outputs.got.map((g) => g.msg);
      assert.equal(outputs.got[1]?.output, "completed");
      assert.deepEqual(again?.event, first?.event);
      assert.equal(again?.topic, "response.completed");
      assert.equal(again?.payload?.result?.output, "The report: all green.");
      assert.equal(again?.replayed, true);
      assert.equal(api.requests.filter((r) => r.path === "/v1/responses/resp_r").length, 2, "read back again for the replay");
      // The tab shows what arrived: the event, not the payload made of it.
      const detail = (
        helper.getNode("in") as unknown as { agentCallbackDeliveries: { request(id: number): { body: string } } }
      ).agentCallbackDeliveries.request((request as { id: number }).id);
      assert.deepEqual(JSON.parse(detail.body), first?.event);
    });

    it("anthropic: a replayed event of another type goes to the fourth output again", async () => {
      const outputs = await load("anthropic", {});
      await deliver("anthropic", platformEvent("anthropic", "session.requires_action", "sesn_x"));
      await outputs.waitFor(1);
      const [request] = sidebar().view().requests;
      assert.deepEqual(sidebar().replay((request as { id: number }).id), { ok: true, executionId: "sesn_x", output: "other" });
      await outputs.waitFor(2);
      assert.equal(outputs.got[1]?.output, "other");
      assert.equal(outputs.got[1]?.msg.topic, "session.requires_action");
    });
  });
});
