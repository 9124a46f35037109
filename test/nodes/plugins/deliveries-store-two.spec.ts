// Two Node-RED processes running the same flow with one callback store (a real redis-server): the
// deliveries sidebar of either shows the same waiting and gave-up callbacks, and an action asked
// of one acts on the queue both deliver from.
import assert from "node:assert/strict";
import { NodeRedProcess } from "../../support/node-red";
import { Receiver, type Received } from "../../support/receiver";
import { RedisServer } from "../../support/redis-server";

interface OutView {
  waiting: Array<{ executionId: string; attempts: number; nextAttempt: number }>;
  waitingTotal: number;
  gaveUp: Array<{ executionId: string; why: string }>;
}

function flows(redisUrl: string, receiverUrl: string): unknown[] {
  return [
    { id: "tab", type: "tab", label: "two instances" },
    { id: "feed", type: "http in", z: "tab", url: "/feed", method: "post", upload: false, swaggerDoc: "", wires: [["out", "ack"]] },
    { id: "ack", type: "http response", z: "tab", statusCode: "200", headers: {}, wires: [] },
    { id: "store", type: "agent-callback-store", url: redisUrl, prefix: "agent-callback:" },
    {
      id: "out",
      type: "agent-callback-out",
      z: "tab",
      url: receiverUrl,
      store: "store",
      agentLoopId: "loop_two",
      retrySchedule: [3600, 3600],
      wires: [[], []],
    },
  ];
}

describe("deliveries sidebar with a callback store: two Node-RED processes see and act on one queue", function () {
  this.timeout(180_000);
  const redis = new RedisServer();
  const receiver = new Receiver();
  let a: NodeRedProcess;
  let b: NodeRedProcess;

  async function view(red: NodeRedProcess): Promise<OutView> {
    const res = await fetch(`${red.url}/agent-callback/out/out`, { headers: { Accept: "application/json" } });
    assert.equal(res.status, 200);
    return (await res.json()) as OutView;
  }

  async function act(red: NodeRedProcess, action: string, body: unknown): Promise<unknown> {
    const res = await fetch(`${red.url}/agent-callback/out/out/${action}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    assert.equal(res.status, 200);
    return res.json();
  }

  async function until(red: NodeRedProcess, ok: (v: OutView) => boolean, what: string): Promise<OutView> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const v = await view(red);
      if (ok(v)) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async function feed(red: NodeRedProcess, executionId: string): Promise<void> {
    const res = await fetch(`${red.url}/feed`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ execution_id: executionId, status: "completed", result: { output: "hi" } }),
    });
    assert.equal(res.status, 200, await res.text());
  }

  const received = (id: string): Received[] => receiver.requests.filter((r) => r.json.execution_id === id && r.answered === 200);

  before(async () => {
    await redis.start();
    await receiver.start();
    a = new NodeRedProcess({ flows: flows(redis.url, receiver.url) });
    b = new NodeRedProcess({ flows: flows(redis.url, receiver.url) });
    await Promise.all([a.start(), b.start()]);
  });

  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    a?.cleanup();
    b?.cleanup();
    await receiver.stop();
    await redis.stop();
    redis.cleanup();
  });

  it("both list the same waiting callback; cancelled on one, it is gave up on the other; resent there, delivered once", async () => {
    receiver.defaultReply = { status: 503 };
    await feed(a, "exec_two_1");
    const onA = await until(a, (v) => v.waiting[0]?.attempts === 1, "waiting on A");
    const onB = await view(b);
    assert.deepEqual(onB.waiting, onA.waiting);
    assert.equal(onB.waitingTotal, 1);
    assert.deepEqual(await act(b, "cancel", { execution_ids: ["exec_two_1"] }), { count: 1, notFound: [] });
    const gaveUp = (await view(a)).gaveUp;
    assert.deepEqual(
      gaveUp.map((g) => [g.executionId, g.why]),
      [["exec_two_1", "cancelled"]],
    );
    receiver.defaultReply = { status: 200 };
    assert.deepEqual(await act(a, "resend", { all: true }), { count: 1, notFound: [] });
    await receiver.waitFor(() => received("exec_two_1").length === 1);
    await until(b, (v) => v.waitingTotal === 0 && v.gaveUp.length === 0, "nothing left, seen from B");
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(received("exec_two_1").length, 1);
  });

  it("retry now asked of one instance delivers a callback the other queued", async () => {
    receiver.defaultReply = { status: 503 };
    await feed(b, "exec_two_2");
    await until(a, (v) => v.waiting.some((w) => w.executionId === "exec_two_2" && w.attempts === 1), "waiting, seen from A");
    receiver.defaultReply = { status: 200 };
    assert.deepEqual(await act(a, "retry", { execution_ids: ["exec_two_2"] }), { count: 1, notFound: [] });
    await receiver.waitFor(() => received("exec_two_2").length === 1);
    await until(b, (v) => v.waitingTotal === 0, "delivered, seen from B");
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(received("exec_two_2").length, 1);
  });
});
