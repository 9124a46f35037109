// The deliveries sidebar's admin API in a real Node-RED child process with adminAuth: every
// route, every refusal, the actions' effects on real receivers, gave-up callbacks kept across a
// restart, and no secret in any answer.
import assert from "node:assert/strict";
import { NodeRedProcess } from "../../support/node-red";
import { Receiver, type Received } from "../../support/receiver";
import { ADMIN, READER, adminAuthSettings, deployAs, token } from "../../support/admin-auth";
import { feedNodes, outcomeNodes } from "../../support/feed-flow";
import { callAdmin, feedCallback, pollUntil, type AdminReply } from "../../support/deliveries-api";

const IN_SECRET = "in-secret-5b1e9a";
const OUT_SECRET = "out-secret-77c2d4";
const SIGNING_KEY = "signing-key-0a9f3c";
/** A key in callback out's URL query (as some webhook URLs carry one): the tab names the URL without it. */
const URL_KEY = "url-key-3c9e1f";

function flows(receiverUrl: string, sinkUrl: string, outcomesUrl: string): unknown[] {
  const tagged = (id: string, output: string, y: number): Record<string, unknown> => ({
    id,
    type: "change",
    z: "tab",
    rules: [{ t: "set", p: "output", pt: "msg", to: output, tot: "str" }],
    x: 400,
    y,
    wires: [["shape"]],
  });
  return [
    { id: "tab", type: "tab", label: "deliveries" },
    ...feedNodes("out", { x: 100, y: 40 }),
    {
      id: "out",
      type: "agent-callback-out",
      z: "tab",
      name: "to receiver",
      url: `${receiverUrl}?key=${URL_KEY}`,
      agentLoopId: "loop_sidebar",
      agentLoopName: "Sidebar test",
      signature: "hmac-sha256",
      retrySchedule: [3600, 3600],
      credentials: { secret: OUT_SECRET, signingKey: SIGNING_KEY },
      x: 300,
      y: 40,
      wires: [[], ["gave-up-shape"]],
    },
    ...outcomeNodes(outcomesUrl),
    {
      id: "in",
      type: "agent-callback-in",
      z: "tab",
      url: "/hook",
      verify: "secret",
      credentials: { secret: IN_SECRET },
      x: 100,
      y: 200,
      wires: [["c0"], ["c1"], ["c2"]],
    },
    tagged("c0", "completed", 160),
    tagged("c1", "failed", 200),
    tagged("c2", "timeout", 240),
    {
      id: "shape",
      type: "change",
      z: "tab",
      rules: [
        {
          t: "set",
          p: "payload",
          pt: "msg",
          to: '{"payload": payload, "replayed": replayed, "simulated": simulated, "output": output}',
          tot: "jsonata",
        },
      ],
      x: 600,
      y: 200,
      wires: [["sink"]],
    },
    {
      id: "sink",
      type: "http request",
      z: "tab",
      method: "POST",
      ret: "txt",
      paytoqs: "ignore",
      url: sinkUrl,
      tls: "",
      persist: false,
      proxy: "",
      authType: "",
      senderr: false,
      headers: [],
      x: 800,
      y: 200,
      wires: [[]],
    },
  ];
}

describe("deliveries sidebar admin API (Node-RED child process, adminAuth)", function () {
  this.timeout(180_000);
  let nodeRed: NodeRedProcess;
  let receiver: Receiver;
  let sink: Receiver;
  /** What callback out gave up on (its second output) and its status. */
  let outcomes: Receiver;
  let adminToken = "";
  let readToken = "";

  const api = (method: "GET" | "POST", route: string, body?: unknown, bearer = adminToken): Promise<AdminReply> =>
    callAdmin(nodeRed.url, bearer, [IN_SECRET, OUT_SECRET, SIGNING_KEY, URL_KEY], method, route, body);

  async function outView(): Promise<{
    health: { state: string; since?: number; lastStatus?: number };
    counts: Record<string, number>;
    waiting: Array<{
      executionId: string;
      attempts: number;
      nextAttempt: number;
      inFlight: boolean;
      lastStatus?: number;
      agentLoopName?: string;
      status?: string;
    }>;
    gaveUp: Array<{ executionId: string; why: string; attempts: number }>;
    delivered: Array<{ executionId: string; statusCode: number; reply: string; attempts: number }>;
  }> {
    const { status, json } = await api("GET", "/agent-callback/out/out");
    assert.equal(status, 200);
    return json as unknown as Awaited<ReturnType<typeof outView>>;
  }

  const until = pollUntil;
  const feed = (executionId: string): Promise<void> => feedCallback(nodeRed.url, executionId);

  async function postHook(payload: unknown, secret = IN_SECRET): Promise<number> {
    const res = await fetch(`${nodeRed.url}/hook`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Webhook-Secret": secret },
      body: typeof payload === "string" ? payload : JSON.stringify(payload),
    });
    await res.text();
    return res.status;
  }

  const bodiesOf = (id: string): Received[] => receiver.requests.filter((r) => r.json.execution_id === id && r.answered === 200);

  before(async () => {
    receiver = await new Receiver().start();
    sink = await new Receiver().start();
    outcomes = await new Receiver().start();
    nodeRed = new NodeRedProcess({ flows: [], settings: adminAuthSettings() });
    await nodeRed.start();
    adminToken = await token(nodeRed.url, ADMIN);
    readToken = await token(nodeRed.url, READER, "read");
    await deployAs(nodeRed.url, adminToken, flows(receiver.url, sink.url, outcomes.url));
    await nodeRed.waitFor(/Started flows[\s\S]*Started flows/);
  });

  after(async () => {
    await nodeRed?.stop();
    nodeRed?.cleanup();
    await receiver?.stop();
    await sink?.stop();
    await outcomes?.stop();
  });

  it("the plugin is registered, and its routes need a token", async () => {
    const plugins = (await (
      await fetch(`${nodeRed.url}/plugins`, { headers: { Authorization: `Bearer ${adminToken}`, Accept: "application/json" } })
    ).json()) as Array<{
      id: string;
      plugins: Array<{ id: string }>;
    }>;
    assert.ok(
      plugins.some((set) => set.plugins.some((p) => p.id === "agent-callback-deliveries")),
      JSON.stringify(plugins),
    );
    const html = await (
      await fetch(`${nodeRed.url}/plugins`, { headers: { Authorization: `Bearer ${adminToken}`, Accept: "text/html" } })
    ).text();
    assert.match(html, /RED\.sidebar\.addTab/);
    assert.equal((await fetch(`${nodeRed.url}/agent-callback/nodes`)).status, 401);
  });

  it("GET /agent-callback/nodes lists the deployed callback in and callback out nodes only", async () => {
    const { status, json } = await api("GET", "/agent-callback/nodes");
    assert.equal(status, 200);
    const nodes = json.nodes as Array<{ id: string; kind: string; name: string; z: string; where: string }>;
    assert.deepEqual(nodes.map((n) => `${n.id}:${n.kind}`).sort(), ["in:in", "out:out"]);
    assert.equal(nodes.find((n) => n.id === "out")?.name, "to receiver");
    assert.equal(nodes.find((n) => n.id === "out")?.z, "tab");
    assert.equal(nodes.find((n) => n.id === "in")?.where, "/hook");
    assert.equal(nodes.find((n) => n.id === "out")?.where, receiver.url);
  });

  it("unknown node ids (or a node of the other kind) are 404 on every route", async () => {
    for (const [method, route] of [
      ["GET", "/agent-callback/out/nope"],
      ["GET", "/agent-callback/out/in"],
      ["GET", "/agent-callback/in/out"],
      ["POST", "/agent-callback/out/nope/retry"],
      ["POST", "/agent-callback/out/nope/cancel"],
      ["POST", "/agent-callback/out/nope/resend"],
      ["POST", "/agent-callback/in/nope/replay"],
      ["POST", "/agent-callback/in/nope/simulate"],
    ] as const) {
      const { status, json } = await api(method, route, method === "POST" ? { all: true } : undefined);
      assert.equal(status, 404, `${method} ${route}`);
      assert.match(String(json.error), /No deployed agent-callback-(in|out) node has the id/);
    }
  });

  it("bad bodies are 400 naming the field", async () => {
    const cases: Array<[string, unknown, string]> = [
      ["/agent-callback/out/out/retry", {}, "execution_ids"],
      ["/agent-callback/out/out/retry", { execution_ids: [] }, "execution_ids"],
      ["/agent-callback/out/out/resend", { execution_ids: [1] }, "execution_ids"],
      ["/agent-callback/out/out/cancel", { all: true }, "all"],
      ["/agent-callback/in/in/replay", { request: "1" }, "request"],
      ["/agent-callback/in/in/replay", {}, "request"],
      ["/agent-callback/in/in/simulate", { status: "done" }, "status"],
      ["/agent-callback/in/in/simulate", {}, "status"],
    ];
    for (const [route, body, field] of cases) {
      const { status, json } = await api("POST", route, body);
      assert.equal(status, 400, `${route} ${JSON.stringify(body)}`);
      assert.equal(json.field, field);
      assert.match(String(json.error), new RegExp(`^${field}: expected|^${field}: this action`));
    }
  });

  it("a failing receiver: the waiting callback with its attempts, next attempt and last status; health failing", async () => {
    receiver.defaultReply = { status: 503, body: "down" };
    const before = Date.now();
    await feed("exec_wait_1");
    const view = await until(
      outView,
      (v) => v.waiting.some((w) => w.executionId === "exec_wait_1" && w.attempts === 1),
      "a waiting callback",
    );
    const waiting = view.waiting.find((w) => w.executionId === "exec_wait_1")!;
    assert.equal(waiting.lastStatus, 503);
    assert.equal(waiting.agentLoopName, "Sidebar test");
    assert.equal(waiting.status, "completed");
    assert.ok(waiting.nextAttempt > Date.now() + 60_000, "the next attempt is the schedule's hour away");
    assert.equal(view.health.state, "failing");
    assert.equal(view.health.lastStatus, 503);
    assert.ok((view.health.since ?? 0) >= before);
    assert.equal(view.counts.queued, 1);
  });

  it("retry now delivers it once the receiver is fixed; delivered shows the reply's start; health up", async () => {
    receiver.defaultReply = { status: 200, headers: { "Content-Type": "application/json" }, body: '{"received":true}' };
    const { status, json } = await api("POST", "/agent-callback/out/out/retry", { execution_ids: ["exec_wait_1", "exec_absent"] });
    assert.equal(status, 200);
    assert.deepEqual(json, { count: 1, notFound: ["exec_absent"] });
    await receiver.waitFor(() => bodiesOf("exec_wait_1").length === 1);
    const view = await until(outView, (v) => v.delivered.some((d) => d.executionId === "exec_wait_1"), "delivered");
    const delivered = view.delivered.find((d) => d.executionId === "exec_wait_1")!;
    assert.deepEqual([delivered.statusCode, delivered.attempts, delivered.reply], [200, 2, '{"received":true}']);
    assert.equal(view.health.state, "up");
    assert.equal(view.waiting.length, 0);
    assert.equal(view.counts.deliveredLastHour, 1);
  });

  it("resend of a delivered one sends the same body bytes again", async () => {
    const { json } = await api("POST", "/agent-callback/out/out/resend", { execution_ids: ["exec_wait_1"] });
    assert.equal(json.count, 1);
    await receiver.waitFor(() => bodiesOf("exec_wait_1").length === 2);
    const [first, second] = bodiesOf("exec_wait_1");
    assert.equal(second!.body, first!.body);
  });

  it("cancel moves a waiting one to gave up; retry {all:true} applies to every waiting one", async () => {
    receiver.defaultReply = { status: 500 };
    await feed("exec_cancel_1");
    await feed("exec_cancel_2");
    await until(outView, (v) => v.waiting.filter((w) => w.attempts === 1).length === 2, "two waiting");
    const cancelled = await api("POST", "/agent-callback/out/out/cancel", { execution_ids: ["exec_cancel_1"] });
    assert.deepEqual(cancelled.json, { count: 1, notFound: [] });
    let view = await outView();
    assert.deepEqual(
      view.waiting.map((w) => w.executionId),
      ["exec_cancel_2"],
    );
    assert.equal(view.gaveUp[0]?.executionId, "exec_cancel_1");
    assert.equal(view.gaveUp[0]?.why, "cancelled");
    // A flow that tracks every callback's end learns of it on the gave-up output.
    await outcomes.waitFor((r) => r.some((o) => o.json.output === "gave-up"), 20_000, "the gave-up msg");
    const gaveUp = outcomes.requests.filter((o) => o.json.output === "gave-up").map((o) => o.json);
    assert.equal(gaveUp.length, 1);
    assert.equal(gaveUp[0]?.executionId, "exec_cancel_1");
    assert.equal(gaveUp[0]?.cancelled, true);
    assert.match(String(gaveUp[0]?.error), /exec_cancel_1 was cancelled in the agent callbacks tab after 1 attempt/);
    assert.equal(view.counts.gaveUpLastHour, 0, "a cancel is not counted as given up");
    const nextAttempt = view.waiting[0]!.nextAttempt;
    // More presses than the schedule has attempts left: a manual attempt that fails changes nothing.
    for (let press = 1; press <= 3; press += 1) {
      const retried = await api("POST", "/agent-callback/out/out/retry", { all: true });
      assert.equal(retried.json.count, 1);
      await receiver.waitFor(() => receiver.requests.filter((r) => r.json.execution_id === "exec_cancel_2").length === 1 + press);
      await until(outView, (v) => v.waiting[0]?.inFlight === false, "the manual attempt's end");
    }
    view = await outView();
    assert.deepEqual(
      view.waiting.map((w) => [w.executionId, w.attempts, w.nextAttempt, w.lastStatus]),
      [["exec_cancel_2", 1, nextAttempt, 500]],
    );
    assert.deepEqual(
      view.gaveUp.map((g) => g.executionId),
      ["exec_cancel_1"],
    );
  });

  it("a callback given up (410) is kept across a restart and resent once", async () => {
    receiver.defaultReply = { status: 200, headers: { "Content-Type": "application/json" }, body: '{"received":true}' };
    await api("POST", "/agent-callback/out/out/retry", { all: true }); // deliver exec_cancel_2
    await receiver.waitFor(() => bodiesOf("exec_cancel_2").length === 1);
    receiver.replies.push({ status: 410, body: "gone" });
    await feed("exec_gone_1");
    await until(outView, (v) => v.gaveUp.some((g) => g.executionId === "exec_gone_1"), "gave up");
    await outcomes.waitFor((r) => r.some((o) => o.json.executionId === "exec_gone_1"), 20_000, "the gave-up msg");
    const goneMsg = outcomes.requests.find((o) => o.json.output === "gave-up" && o.json.executionId === "exec_gone_1");
    assert.equal(goneMsg?.json.cancelled, false, "a callback the receiver refused is not marked cancelled");
    await nodeRed.restart();
    adminToken = await token(nodeRed.url, ADMIN);
    const view = await outView();
    const gone = view.gaveUp.find((g) => g.executionId === "exec_gone_1");
    assert.deepEqual([gone?.why, gone?.attempts], ["The receiver refused the callback (HTTP 410). Its reply says why.", 1]);
    const resent = await api("POST", "/agent-callback/out/out/resend", { all: true });
    assert.deepEqual(resent.json, { count: 2, notFound: [] }); // exec_gone_1 and the cancelled exec_cancel_1
    await receiver.waitFor(() => bodiesOf("exec_gone_1").length === 1 && bodiesOf("exec_cancel_1").length === 1);
    await until(outView, (v) => v.gaveUp.length === 0 && v.waiting.length === 0, "nothing left");
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(bodiesOf("exec_gone_1").length, 1);
  });

  it("the last callback cancelled: the node's status says cancelled, not gave up", async () => {
    receiver.defaultReply = { status: 500 };
    await feed("exec_cancel_3");
    await until(outView, (v) => v.waiting.some((w) => w.executionId === "exec_cancel_3" && w.attempts === 1), "waiting");
    outcomes.requests.length = 0;
    await api("POST", "/agent-callback/out/out/cancel", { execution_ids: ["exec_cancel_3"] });
    await outcomes.waitFor((r) => r.some((o) => o.json.output === "status" && o.json.text === "cancelled"), 20_000, "the status");
    assert.ok(!outcomes.requests.some((o) => o.json.output === "status" && /gave up/.test(String(o.json.text))));
    assert.equal(outcomes.requests.find((o) => o.json.output === "gave-up")?.json.cancelled, true);
    receiver.defaultReply = { status: 200, headers: { "Content-Type": "application/json" }, body: '{"received":true}' };
    await api("POST", "/agent-callback/out/out/resend", { execution_ids: ["exec_cancel_3"] });
    await until(outView, (v) => v.gaveUp.length === 0 && v.waiting.length === 0, "nothing left");
  });

  it("callback in: the last requests with client, reply and outcome", async () => {
    const payload = {
      agent_loop_id: "loop_1",
      agent_loop_name: "Nightly",
      execution_id: "exec_in_1",
      status: "completed",
      result: { output: "hi" },
    };
    assert.equal(await postHook(payload), 200);
    assert.equal(await postHook(payload), 200);
    assert.equal(await postHook(payload, "wrong-secret"), 401);
    const { status, json } = await api("GET", "/agent-callback/in/in");
    assert.equal(status, 200);
    assert.equal(json.url, "/hook");
    assert.deepEqual(json.counts, { accepted: 1, duplicate: 1, refused: 1 });
    const requests = json.requests as Array<Record<string, unknown>>;
    assert.deepEqual(
      requests.map((r) => [r.outcome, r.reply, r.executionId ?? null, r.replayable]),
      [
        ["wrong-secret", 401, null, false],
        ["duplicate", 200, "exec_in_1", false],
        ["accepted", 200, "exec_in_1", true],
      ],
    );
    assert.match(String(requests[2]!.client), /127\.0\.0\.1/);
    assert.equal(requests[2]!.agentLoopName, "Nightly");
    assert.equal(requests[2]!.status, "completed");
  });

  it("replay emits an accepted one again with msg.replayed, past dedupe; unknown and refused requests are answered", async () => {
    const requests = (await api("GET", "/agent-callback/in/in")).json.requests as Array<{ id: number; outcome: string }>;
    const accepted = requests.find((r) => r.outcome === "accepted")!;
    const refused = requests.find((r) => r.outcome === "wrong-secret")!;
    sink.requests.length = 0;
    const { status, json } = await api("POST", "/agent-callback/in/in/replay", { request: accepted.id });
    assert.equal(status, 200);
    assert.equal(json.executionId, "exec_in_1");
    await sink.waitFor((r) => r.length === 1);
    assert.deepEqual(sink.requests[0]!.json.replayed, true);
    assert.equal(sink.requests[0]!.json.output, "completed");
    assert.equal((sink.requests[0]!.json.payload as { execution_id: string }).execution_id, "exec_in_1");
    assert.equal((await api("POST", "/agent-callback/in/in/replay", { request: 999_999 })).status, 404);
    assert.equal((await api("POST", "/agent-callback/in/in/replay", { request: refused.id })).status, 409);
    const listed = (await api("GET", "/agent-callback/in/in")).json.requests as Array<Record<string, unknown>>;
    assert.deepEqual(
      [listed[0]?.outcome, listed[0]?.executionId, listed[0]?.output],
      ["replayed", "exec_in_1", "completed"],
      "the replay is listed, with the output it went to",
    );
  });

  it("250 refusals after an accepted callback: it is still listed and replays", async () => {
    for (let n = 0; n < 250; n += 1) assert.notEqual(await postHook({ execution_id: `exec_bad_${n}` }, "wrong-secret"), 200);
    const { json } = await api("GET", "/agent-callback/in/in");
    const requests = json.requests as Array<{ id: number; outcome: string; executionId?: string; count?: number }>;
    const accepted = requests.find((r) => r.outcome === "accepted" && r.executionId === "exec_in_1");
    assert.ok(accepted, JSON.stringify(requests.slice(0, 5)));
    assert.ok(requests.length < 60, `${requests.length} entries`);
    const refusedListed = requests.filter((r) => r.outcome !== "accepted" && r.outcome !== "duplicate" && r.outcome !== "replayed");
    assert.equal(
      refusedListed.reduce((sum, r) => sum + (r.count ?? 1), 0),
      251,
      "every refusal is counted in the list (the earlier one and these 250)",
    );
    assert.equal((json.counts as { refused: number }).refused, 251);
    sink.requests.length = 0;
    const replayed = await api("POST", "/agent-callback/in/in/replay", { request: accepted.id });
    assert.equal(replayed.status, 200);
    await sink.waitFor((r) => r.length === 1);
    assert.equal((sink.requests[0]!.json.payload as { execution_id: string }).execution_id, "exec_in_1");
  });

  it("simulate emits the seed's example for the status on its output, with a fresh exec_sim_ id and msg.simulated", async () => {
    sink.requests.length = 0;
    const { status, json } = await api("POST", "/agent-callback/in/in/simulate", { status: "failed" });
    assert.equal(status, 200);
    assert.match(String(json.executionId), /^exec_sim_[0-9a-f]+$/);
    await sink.waitFor((r) => r.length === 1);
    const got = sink.requests[0]!.json as { output: string; simulated: boolean; payload: Record<string, unknown> };
    assert.equal(got.output, "failed");
    assert.equal(got.simulated, true);
    assert.equal(got.payload.execution_id, json.executionId);
    assert.equal(got.payload.error, "Tool call failed: HTTP 500 from API");
    assert.equal(got.payload.result, null);
    const view = (await api("GET", "/agent-callback/in/in")).json;
    assert.equal((view.counts as Record<string, number>).accepted, 1, "a simulation is no request");
    const listed = (view.requests as Array<Record<string, unknown>>)[0];
    assert.deepEqual([listed?.outcome, listed?.executionId, listed?.output], ["simulated", json.executionId, "failed"]);
  });

  it("a read-only user reads everything and can act on nothing (401, as Node-RED refuses a missing permission)", async () => {
    for (const route of ["/agent-callback/nodes", "/agent-callback/out/out", "/agent-callback/in/in"]) {
      assert.equal((await api("GET", route, undefined, readToken)).status, 200, route);
    }
    for (const [route, body] of [
      ["/agent-callback/out/out/retry", { all: true }],
      ["/agent-callback/out/out/cancel", { execution_ids: ["x"] }],
      ["/agent-callback/out/out/resend", { all: true }],
      ["/agent-callback/in/in/replay", { request: 1 }],
      ["/agent-callback/in/in/simulate", { status: "completed" }],
    ] as const) {
      assert.equal((await api("POST", route, body, readToken)).status, 401, route);
      // The same request with the admin token is not refused, so the 401 above is the permission.
      assert.notEqual((await api("POST", route, { bad: true })).status, 401, route);
    }
  });

  it("a redeploy that restarts both nodes keeps Delivered, Last requests and the counts", async () => {
    const inBefore = (await api("GET", "/agent-callback/in/in")).json as {
      counts: unknown;
      requests: Array<{ id: number; outcome: string }>;
    };
    const outBefore = await outView();
    assert.ok(inBefore.requests.length > 0 && outBefore.delivered.length > 0, "history to keep");
    const stopped = (): number => (nodeRed.log.match(/Stopped flows/g) ?? []).length;
    const stops = stopped();
    // Changed settings on both nodes: a full deploy stops and starts them again with the same ids.
    const changed = (flows(receiver.url, sink.url, outcomes.url) as Array<Record<string, unknown>>).map((node) =>
      node.id === "out" ? { ...node, agentLoopName: "Sidebar test, redeployed" } : node.id === "in" ? { ...node, rateLimit: 500 } : node,
    );
    await deployAs(nodeRed.url, adminToken, changed);
    await until(
      () => Promise.resolve(stopped()),
      (n) => n > stops,
      "the flows stopped",
    );
    const inAfter = await until(
      () => api("GET", "/agent-callback/in/in"),
      (reply) => reply.status === 200,
      "callback in started again",
    );
    assert.deepEqual(inAfter.json.counts, inBefore.counts);
    assert.deepEqual(
      (inAfter.json.requests as Array<{ id: number; outcome: string }>).map((r) => [r.id, r.outcome]),
      inBefore.requests.map((r) => [r.id, r.outcome]),
    );
    await until(
      () => api("GET", "/agent-callback/out/out"),
      (reply) => reply.status === 200,
      "callback out started again",
    );
    const outAfter = await outView();
    assert.deepEqual(
      outAfter.delivered.map((d) => d.executionId),
      outBefore.delivered.map((d) => d.executionId),
    );
    assert.equal(outAfter.counts.deliveredLastHour, outBefore.counts.deliveredLastHour);
    assert.equal(outAfter.health.state, outBefore.health.state);
  });
});
