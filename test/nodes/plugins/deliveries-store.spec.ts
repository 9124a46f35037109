// The deliveries sidebar's admin API for a callback out whose outbox is the shared queue in a
// callback store (a real redis-server), in a real Node-RED child process with adminAuth: the
// waiting list is the queue's (entries any instance put there included), gave-up records are
// kept in Redis across a restart, and retry, cancel and resend act on the queue.
import assert from "node:assert/strict";
import { StoreOutbox } from "../../../nodes/lib/outbox/store-outbox";
import type { StoreConnection } from "../../../nodes/lib/store/connection";
import { ADMIN, adminAuthSettings, deployAs, token } from "../../support/admin-auth";
import { NodeRedProcess } from "../../support/node-red";
import { Receiver, type Received } from "../../support/receiver";
import { RedisServer } from "../../support/redis-server";
import { openStore } from "../../support/store";
import { callAdmin, feedCallback, pollUntil, type AdminReply } from "../../support/deliveries-api";
import { outcomeNodes } from "../../support/feed-flow";

const OUT_SECRET = "out-secret-3c8e1f";
const SIGNING_KEY = "signing-key-91b7d2";
const REDIS_PASSWORD = "redis-password-5e0a44";
const QUEUE = "agent-callback:outbox:out";

interface OutView {
  health: { state: string; lastStatus?: number };
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
  waitingTotal: number;
  shared?: boolean;
  gaveUp: Array<{ executionId: string; why: string; attempts: number }>;
  delivered: Array<{ executionId: string; statusCode: number; attempts: number; reply: string }>;
}

function flows(redisUrl: string, receiverUrl: string, outcomesUrl: string): unknown[] {
  return [
    { id: "tab", type: "tab", label: "store deliveries" },
    { id: "feed", type: "http in", z: "tab", url: "/feed", method: "post", upload: false, swaggerDoc: "", wires: [["out", "ack"]] },
    { id: "ack", type: "http response", z: "tab", statusCode: "200", headers: {}, wires: [] },
    { id: "store", type: "agent-callback-store", url: redisUrl, prefix: "agent-callback:", credentials: { password: REDIS_PASSWORD } },
    {
      id: "out",
      type: "agent-callback-out",
      z: "tab",
      name: "to receiver",
      url: receiverUrl,
      store: "store",
      agentLoopId: "loop_store",
      agentLoopName: "Store sidebar",
      signature: "hmac-sha256",
      retrySchedule: [3600, 3600],
      credentials: { secret: OUT_SECRET, signingKey: SIGNING_KEY },
      wires: [[], ["gave-up-shape"]],
    },
    ...outcomeNodes(outcomesUrl),
  ];
}

describe("deliveries sidebar admin API for callback out with a callback store (redis-server, Node-RED child process)", function () {
  this.timeout(180_000);
  const redis = new RedisServer();
  let admin: StoreConnection;
  let nodeRed: NodeRedProcess;
  let receiver: Receiver;
  /** What callback out gave up on (its second output) and its status. */
  let outcomes: Receiver;
  let adminToken = "";

  const api = (method: "GET" | "POST", route: string, body?: unknown): Promise<AdminReply> =>
    callAdmin(nodeRed.url, adminToken, [OUT_SECRET, SIGNING_KEY, REDIS_PASSWORD], method, route, body);

  async function outView(): Promise<OutView> {
    const { status, json } = await api("GET", "/agent-callback/out/out");
    assert.equal(status, 200, JSON.stringify(json));
    return json as unknown as OutView;
  }

  const until = (ok: (view: OutView) => boolean, what: string): Promise<OutView> => pollUntil(outView, ok, what);
  const feed = (executionId: string): Promise<void> => feedCallback(nodeRed.url, executionId);

  const bodiesOf = (id: string): Received[] => receiver.requests.filter((r) => r.json.execution_id === id && r.answered === 200);
  const waitingIds = (view: OutView): string[] => view.waiting.map((w) => w.executionId).sort();

  before(async () => {
    await redis.start();
    receiver = await new Receiver().start();
    outcomes = await new Receiver().start();
    admin = await openStore(redis.url, "agent-callback:");
    await admin.sendCommand(["CONFIG", "SET", "requirepass", REDIS_PASSWORD]);
    nodeRed = new NodeRedProcess({ flows: [], settings: adminAuthSettings() });
    await nodeRed.start();
    adminToken = await token(nodeRed.url, ADMIN);
    await deployAs(nodeRed.url, adminToken, flows(redis.url, receiver.url, outcomes.url));
    await nodeRed.waitFor(/Started flows[\s\S]*Started flows/);
  });

  after(async () => {
    await nodeRed?.stop();
    nodeRed?.cleanup();
    await receiver?.stop();
    await outcomes?.stop();
    await admin?.close();
    await redis.stop();
    redis.cleanup();
  });

  it("a failing receiver: the callback waiting in Redis with attempts, next attempt and last status; health failing", async () => {
    receiver.defaultReply = { status: 503, body: "down" };
    await feed("exec_s_wait");
    const view = await until((v) => v.waiting.some((w) => w.executionId === "exec_s_wait" && w.attempts === 1), "a waiting callback");
    const waiting = view.waiting.find((w) => w.executionId === "exec_s_wait")!;
    assert.deepEqual(
      [waiting.lastStatus, waiting.agentLoopName, waiting.status, waiting.inFlight],
      [503, "Store sidebar", "completed", false],
    );
    assert.ok(waiting.nextAttempt > Date.now() + 60_000, "the next attempt is the schedule's hour away");
    assert.equal(view.health.state, "failing");
    assert.equal(view.health.lastStatus, 503);
    assert.deepEqual([view.counts.queued, view.counts.inFlight, view.waitingTotal], [1, 0, 1]);
    assert.equal(view.shared, true);
  });

  it("lists what another instance put in the shared queue", async () => {
    const other = new StoreOutbox(admin, { queueKey: QUEUE, leaseMs: 60_000, holder: "other-instance" });
    const body = JSON.stringify({ agent_loop_id: "loop_store", agent_loop_name: "Other", execution_id: "exec_s_other", status: "failed" });
    const later = Date.now() + 3_600_000;
    await other.add({
      id: "other-1",
      executionId: "exec_s_other",
      body,
      attempts: 2,
      dueAt: later,
      createdAt: Date.now(),
      lastStatus: 502,
    });
    const view = await until((v) => v.waitingTotal === 2, "two waiting");
    assert.deepEqual(waitingIds(view), ["exec_s_other", "exec_s_wait"]);
    const listed = view.waiting.find((w) => w.executionId === "exec_s_other")!;
    assert.deepEqual(
      [listed.attempts, listed.nextAttempt, listed.lastStatus, listed.agentLoopName, listed.status],
      [2, later, 502, "Other", "failed"],
    );
  });

  it("retry now delivers the chosen one once the receiver is fixed; delivered shows it; health up", async () => {
    receiver.defaultReply = { status: 200, headers: { "Content-Type": "application/json" }, body: '{"received":true}' };
    const { status, json } = await api("POST", "/agent-callback/out/out/retry", { execution_ids: ["exec_s_wait", "exec_absent"] });
    assert.equal(status, 200);
    assert.deepEqual(json, { count: 1, notFound: ["exec_absent"] });
    await receiver.waitFor(() => bodiesOf("exec_s_wait").length === 1);
    const view = await until((v) => v.delivered.some((d) => d.executionId === "exec_s_wait"), "delivered");
    // The view that lists it as delivered does not list it as waiting too.
    assert.ok(!waitingIds(view).includes("exec_s_wait"), JSON.stringify(view.waiting));
    const delivered = view.delivered.find((d) => d.executionId === "exec_s_wait")!;
    assert.deepEqual([delivered.statusCode, delivered.attempts, delivered.reply], [200, 2, '{"received":true}']);
    assert.equal(view.health.state, "up");
    assert.deepEqual(waitingIds(view), ["exec_s_other"]);
  });

  it("resend of a delivered one queues the same body bytes in Redis again", async () => {
    const { json } = await api("POST", "/agent-callback/out/out/resend", { execution_ids: ["exec_s_wait"] });
    assert.deepEqual(json, { count: 1, notFound: [] });
    await receiver.waitFor(() => bodiesOf("exec_s_wait").length === 2);
    const [first, second] = bodiesOf("exec_s_wait");
    assert.equal(second!.body, first!.body);
  });

  it("cancel moves a waiting one to the gave-up records in Redis; retry {all:true} makes every waiting one due", async () => {
    receiver.defaultReply = { status: 500 };
    await feed("exec_s_cancel");
    await until((v) => v.waiting.some((w) => w.executionId === "exec_s_cancel" && w.attempts === 1), "waiting after one attempt");
    const cancelled = await api("POST", "/agent-callback/out/out/cancel", { execution_ids: ["exec_s_other"] });
    assert.deepEqual(cancelled.json, { count: 1, notFound: [] });
    let view = await outView();
    assert.deepEqual(waitingIds(view), ["exec_s_cancel"]);
    assert.deepEqual(
      view.gaveUp.map((g) => [g.executionId, g.why, g.attempts]),
      [["exec_s_other", "cancelled", 2]],
    );
    assert.equal(view.counts.gaveUpLastHour, 0, "a cancel is not counted as given up");
    assert.equal(Number(await admin.sendCommand(["HLEN", `${QUEUE}:gaveup`])), 1, "kept in Redis");
    // Put in the queue by another instance, cancelled here: it leaves on this node's gave-up output, marked.
    await outcomes.waitFor((r) => r.some((o) => o.json.output === "gave-up"), 20_000, "the gave-up msg");
    const gaveUp = outcomes.requests.filter((o) => o.json.output === "gave-up").map((o) => o.json);
    assert.deepEqual(
      gaveUp.map((g) => [g.executionId, g.cancelled]),
      [["exec_s_other", true]],
    );
    assert.match(String(gaveUp[0]?.error), /exec_s_other was cancelled in the agent callbacks tab after 2 attempt/);
    const nextAttempt = view.waiting[0]!.nextAttempt;
    // More presses than the schedule has attempts left: a manual attempt that fails changes nothing.
    for (let press = 1; press <= 3; press += 1) {
      const retried = await api("POST", "/agent-callback/out/out/retry", { all: true });
      assert.deepEqual(retried.json, { count: 1, notFound: [] });
      await receiver.waitFor(() => receiver.requests.filter((r) => r.json.execution_id === "exec_s_cancel").length === 1 + press);
      await until((v) => v.waiting[0]?.inFlight === false && v.waiting[0]?.nextAttempt === nextAttempt, "back where it was");
    }
    view = await outView();
    assert.deepEqual(
      view.waiting.map((w) => [w.executionId, w.attempts, w.nextAttempt, w.lastStatus]),
      [["exec_s_cancel", 1, nextAttempt, 500]],
    );
    assert.deepEqual(
      view.gaveUp.map((g) => g.executionId),
      ["exec_s_other"],
    );
    assert.equal(Number(await admin.sendCommand(["HLEN", `${QUEUE}:manual`])), 0, "no retry-now mark left behind");
  });

  it("a callback given up (410) is kept in Redis across a Node-RED restart and resent once", async () => {
    receiver.defaultReply = { status: 200, headers: { "Content-Type": "application/json" }, body: '{"received":true}' };
    await api("POST", "/agent-callback/out/out/retry", { all: true }); // delivers exec_s_cancel
    await receiver.waitFor(() => bodiesOf("exec_s_cancel").length === 1);
    receiver.replies.push({ status: 410, body: "gone" });
    await feed("exec_s_gone");
    const givenUp = await until((v) => v.gaveUp.some((g) => g.executionId === "exec_s_gone"), "gave up");
    assert.equal(givenUp.counts.gaveUpLastHour, 1, "given up, not the cancelled one");
    await nodeRed.restart();
    adminToken = await token(nodeRed.url, ADMIN);
    const view = await outView();
    const gone = view.gaveUp.find((g) => g.executionId === "exec_s_gone");
    assert.deepEqual([gone?.why, gone?.attempts], ["The receiver refused the callback (HTTP 410). Its reply says why.", 1]);
    const resent = await api("POST", "/agent-callback/out/out/resend", { all: true });
    assert.deepEqual(resent.json, { count: 2, notFound: [] }); // exec_s_gone and the cancelled exec_s_other
    await receiver.waitFor(() => bodiesOf("exec_s_gone").length === 1 && bodiesOf("exec_s_other").length === 1);
    await until((v) => v.gaveUp.length === 0 && v.waitingTotal === 0, "nothing left");
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(bodiesOf("exec_s_gone").length, 1);
    assert.equal(receiver.requests.filter((r) => r.json.execution_id === "exec_s_gone").length, 2, "the 410 and the one resend");
  });

  it("while Redis cannot be reached the list and the actions answer 500 saying so (and no secret)", async () => {
    await redis.stop();
    const view = await api("GET", "/agent-callback/out/out");
    assert.equal(view.status, 500);
    assert.match(String(view.json.error), /store unreachable/);
    const retry = await api("POST", "/agent-callback/out/out/retry", { all: true });
    assert.equal(retry.status, 500);
  });
});
