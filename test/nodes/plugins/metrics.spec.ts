// The Prometheus metrics route in a real Node-RED child process with adminAuth: the counts match
// the requests and callbacks the test sent, promtool accepts the text, a real Prometheus server
// scrapes it with a bearer token and answers the same counts, a node removed by a deploy drops its
// series, and `agentCallbackMetrics: false` turns the route off.
import assert from "node:assert/strict";
import { NodeRedProcess } from "../../support/node-red";
import { Receiver } from "../../support/receiver";
import { ADMIN, READER, adminAuthSettings, deployAs, token } from "../../support/admin-auth";
import { pollUntil } from "../../support/deliveries-api";
import { PrometheusServer, missingPrometheus, parseExposition, promtoolCheck } from "../../support/prometheus";

const IN_SECRET = "in-secret-metrics-4d2a";
const OUT_SECRET = "out-secret-metrics-9e1b";
const METRICS = "/agent-callback/metrics";
const SCRAPE_TOKEN = "scrape-token-6f3e0c9a1d";

/** An http in at `url` that passes its msg to `target` and answers 200 at once. */
function feed(id: string, url: string, target: string, y: number): Array<Record<string, unknown>> {
  return [
    { id, type: "http in", z: "tab", url, method: "post", upload: false, swaggerDoc: "", x: 100, y, wires: [[target, `${id}-ack`]] },
    { id: `${id}-ack`, type: "http response", z: "tab", statusCode: "200", headers: {}, x: 300, y: y + 20, wires: [] },
  ];
}

function flows(receiverUrl: string, parkedUrl: string, withParked = true): unknown[] {
  const out = (id: string, name: string, url: string, retrySchedule: number[], y: number): Record<string, unknown> => ({
    id,
    type: "agent-callback-out",
    z: "tab",
    name,
    url,
    agentLoopId: "loop_metrics",
    retrySchedule,
    credentials: { secret: OUT_SECRET },
    x: 500,
    y,
    wires: [[], []],
  });
  return [
    { id: "tab", type: "tab", label: "metrics" },
    ...feed("feed", "/feed", "out", 40),
    out("out", "to receiver", receiverUrl, [1], 40),
    ...(withParked ? [...feed("feed2", "/feed2", "parked", 120), out("parked", "parked one", parkedUrl, [3600], 120)] : []),
    {
      id: "in",
      type: "agent-callback-in",
      z: "tab",
      name: "receiving end",
      url: "/hook",
      verify: "secret",
      credentials: { secret: IN_SECRET },
      x: 100,
      y: 240,
      wires: [[], [], []],
    },
  ];
}

type Samples = ReturnType<typeof parseExposition>;

/** The value of the sample `name` with every label of `labels`; undefined when there is none. */
function valueOf(samples: Samples, name: string, labels: Record<string, string>): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

describe("Prometheus metrics route (Node-RED child process, adminAuth)", function () {
  this.timeout(180_000);
  let nodeRed: NodeRedProcess;
  let receiver: Receiver;
  let parked: Receiver;
  let adminToken = "";
  let readToken = "";

  const scrape = async (bearer = readToken): Promise<{ status: number; type: string; text: string }> => {
    const res = await fetch(`${nodeRed.url}${METRICS}`, { headers: bearer ? { Authorization: `Bearer ${bearer}` } : {} });
    return { status: res.status, type: res.headers.get("content-type") ?? "", text: await res.text() };
  };
  const samples = async (): Promise<Samples> => parseExposition((await scrape()).text);

  const postHook = async (body: string, secret = IN_SECRET): Promise<number> => {
    const res = await fetch(`${nodeRed.url}/hook`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Webhook-Secret": secret },
      body,
    });
    await res.arrayBuffer();
    return res.status;
  };
  const feedOut = async (path: string, executionId: string): Promise<void> => {
    const res = await fetch(`${nodeRed.url}${path}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ execution_id: executionId, status: "completed", result: { output: executionId } }),
    });
    assert.equal(res.status, 200, await res.text());
  };

  before(async () => {
    receiver = await new Receiver().start();
    parked = await new Receiver().start();
    parked.defaultReply = { status: 503 };
    // A fixed token for the scraper, as the README's example sets it (Node-RED's adminAuth.tokens).
    const adminAuth = {
      ...(adminAuthSettings().adminAuth as Record<string, unknown>),
      tokens: [{ token: SCRAPE_TOKEN, user: READER.username, scope: ["read"] }],
    };
    nodeRed = new NodeRedProcess({ settings: { adminAuth } });
    await nodeRed.start();
    adminToken = await token(nodeRed.url, ADMIN);
    readToken = await token(nodeRed.url, READER, "read");
    // Deployed, not written to flows.json: credentials come with a deploy.
    await deployAs(nodeRed.url, adminToken, flows(receiver.url, parked.url));
  });

  after(async () => {
    await nodeRed?.stop();
    nodeRed?.cleanup();
    await receiver?.stop();
    await parked?.stop();
  });

  it("answers 401 without a token and the Prometheus text format to a read-only user", async () => {
    assert.equal((await scrape("")).status, 401);
    assert.equal((await scrape("not-a-token")).status, 401);
    assert.equal((await scrape(SCRAPE_TOKEN)).status, 200);
    const reply = await scrape();
    assert.equal(reply.status, 200, reply.text);
    assert.match(reply.type, /^text\/plain;/);
    assert.match(reply.type, /version=0\.0\.4/);
    assert.match(reply.text, /# TYPE agent_callback_out_delivery_seconds histogram/);
  });

  it("counts callback in's requests by outcome and its msgs by status, as sent", async () => {
    const payload = (id: string, status: string): string => JSON.stringify({ agent_loop_id: "loop_1", execution_id: id, status });
    assert.equal(await postHook(payload("exec_m1", "completed")), 200);
    assert.equal(await postHook(payload("exec_m1", "completed")), 200); // duplicate
    assert.equal(await postHook(payload("exec_m2", "failed")), 200);
    assert.equal(await postHook(payload("exec_m3", "completed"), "wrong-secret"), 401);
    assert.equal(await postHook(payload("exec_m4", "completed"), "wrong-secret"), 401);
    assert.equal(await postHook("{not json"), 400);
    const found = await samples();
    const node = { node_id: "in", node_name: "receiving end" };
    const requests = (outcome: string): number | undefined => valueOf(found, "agent_callback_in_requests_total", { ...node, outcome });
    assert.deepEqual(
      ["accepted", "duplicate", "unauthorized", "invalid"].map(requests),
      [2, 1, 2, 1],
      JSON.stringify(found.filter((s) => s.name.startsWith("agent_callback_in"))),
    );
    assert.equal(requests("rate_limited"), undefined);
    const emitted = (status: string): number | undefined => valueOf(found, "agent_callback_in_emitted_total", { ...node, status });
    assert.deepEqual(["completed", "failed", "timeout"].map(emitted), [1, 1, undefined]);
  });

  it("counts callback out's attempts by result, times them, and reads waiting and paused", async () => {
    // The first callback fails once (retried after 1 s) then is delivered; the second is refused with 410 (given up at once).
    receiver.replies = [{ status: 500 }, { status: 200 }];
    await feedOut("/feed", "exec_out_1");
    await pollUntil(
      async () => receiver.requests.length,
      (n) => n >= 2,
      "two attempts of exec_out_1",
    );
    receiver.replies = [{ status: 410 }];
    await feedOut("/feed", "exec_out_2");
    await feedOut("/feed2", "exec_parked");
    const node = { node_id: "out", node_name: "to receiver" };
    const result = (found: Samples, r: string): number | undefined =>
      valueOf(found, "agent_callback_out_attempts_total", { ...node, result: r });
    const found = await pollUntil(
      samples,
      (s) => result(s, "gave_up") === 1 && valueOf(s, "agent_callback_out_attempts_total", { node_id: "parked", result: "failed" }) === 1,
      "the metrics of three callbacks",
    );
    assert.deepEqual(
      ["delivered", "failed", "gave_up"].map((r) => result(found, r)),
      [1, 1, 1],
    );
    assert.equal(receiver.requests.length, 3);
    // Every attempt timed: three for "out", one for "parked".
    assert.equal(valueOf(found, "agent_callback_out_delivery_seconds_count", node), 3);
    assert.equal(valueOf(found, "agent_callback_out_delivery_seconds_bucket", { ...node, le: "+Inf" }), 3);
    assert.ok((valueOf(found, "agent_callback_out_delivery_seconds_sum", node) ?? -1) > 0);
    assert.equal(valueOf(found, "agent_callback_out_delivery_seconds_count", { node_id: "parked" }), 1);
    assert.equal(valueOf(found, "agent_callback_out_waiting", node), 0);
    assert.equal(valueOf(found, "agent_callback_out_waiting", { node_id: "parked", node_name: "parked one" }), 1);
    // The dialog's test callback is no delivery attempt: not counted, not timed.
    const test = await fetch(`${nodeRed.url}/agent-callback-out/out/test`, {
      method: "POST",
      headers: { Authorization: `Bearer ${adminToken}` },
    });
    assert.equal(test.status, 200, await test.text());
    assert.equal(receiver.requests.length, 4);
    const after = await samples();
    assert.deepEqual(
      ["delivered", "failed", "gave_up"].map((r) => result(after, r)),
      [1, 1, 1],
    );
    assert.equal(valueOf(after, "agent_callback_out_delivery_seconds_count", node), 3);
    // One failure in a row is below pauseAfter (10): no receiver paused, 0 for every node (the pause's 1 is in receiver-pause.spec).
    assert.equal(valueOf(found, "agent_callback_out_paused", node), 0);
    assert.equal(valueOf(found, "agent_callback_out_paused", { node_id: "parked" }), 0);
  });

  it("is accepted by promtool check metrics", function () {
    const missing = missingPrometheus();
    if (missing) {
      console.log(`      skipped: ${missing}`);
      return this.skip();
    }
    return scrape().then(({ text }) => {
      const checked = promtoolCheck(text);
      assert.equal(checked.status, 0, `${checked.output}\n${text}`);
    });
  });

  it("is scraped by a real Prometheus server with a fixed bearer token (adminAuth.tokens), whose API answers the same counts", async function () {
    const missing = missingPrometheus();
    if (missing) {
      console.log(`      skipped: ${missing}`);
      return this.skip();
    }
    const prometheus = new PrometheusServer();
    try {
      await prometheus.start(`127.0.0.1:${nodeRed.port}`, METRICS, SCRAPE_TOKEN);
      const up = await pollUntil(
        () => prometheus.query('up{job="node-red"}'),
        (r) => r.length === 1 && r[0]?.value === 1,
        "a successful scrape",
      );
      assert.equal(up[0]?.value, 1);
      const accepted = await prometheus.query('agent_callback_in_requests_total{node_id="in",outcome="accepted"}');
      assert.deepEqual(
        accepted.map((s) => [s.metric.node_name, s.value]),
        [["receiving end", 2]],
      );
      const attempts = await prometheus.query('sum by (result) (agent_callback_out_attempts_total{node_id="out"})');
      assert.deepEqual(Object.fromEntries(attempts.map((s) => [s.metric.result, s.value])), { delivered: 1, failed: 1, gave_up: 1 });
      const waiting = await prometheus.query("agent_callback_out_waiting");
      assert.deepEqual(Object.fromEntries(waiting.map((s) => [s.metric.node_id, s.value])), { out: 0, parked: 1 });
    } finally {
      await prometheus.stop();
    }
  });

  it("drops the series of a node removed by a deploy and keeps the others' counts", async () => {
    await deployAs(nodeRed.url, adminToken, flows(receiver.url, parked.url, false));
    const found = await pollUntil(samples, (s) => !s.some((x) => x.labels.node_id === "parked"), "no series of the removed node");
    assert.equal(valueOf(found, "agent_callback_out_attempts_total", { node_id: "out", result: "delivered" }), 1);
    assert.equal(valueOf(found, "agent_callback_in_requests_total", { node_id: "in", outcome: "accepted" }), 2);
  });

  it("is off (404) with agentCallbackMetrics: false in settings.js", async () => {
    const off = new NodeRedProcess({ flows: flows(receiver.url, parked.url), settings: { agentCallbackMetrics: false } });
    try {
      await off.start();
      const res = await fetch(`${off.url}${METRICS}`);
      assert.equal(res.status, 404, await res.text());
      // The sidebar's routes stay.
      assert.equal((await fetch(`${off.url}/agent-callback/nodes`)).status, 200);
    } finally {
      await off.stop();
      off.cleanup();
    }
  });
});
