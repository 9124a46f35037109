// The metrics of a callback out whose outbox is the shared queue in a callback store (a real
// redis-server), in a real Node-RED child process: attempts counted by result as with the file
// outbox, and waiting read from the queue.
import assert from "node:assert/strict";
import { NodeRedProcess } from "../../support/node-red";
import { Receiver } from "../../support/receiver";
import { RedisServer } from "../../support/redis-server";
import { pollUntil } from "../../support/deliveries-api";
import { parseExposition } from "../../support/prometheus";

function flows(redisUrl: string, receiverUrl: string): unknown[] {
  return [
    { id: "tab", type: "tab", label: "store metrics" },
    { id: "feed", type: "http in", z: "tab", url: "/feed", method: "post", upload: false, swaggerDoc: "", wires: [["out", "ack"]] },
    { id: "ack", type: "http response", z: "tab", statusCode: "200", headers: {}, wires: [] },
    { id: "store", type: "agent-callback-store", url: redisUrl, prefix: "agent-callback:" },
    {
      id: "out",
      type: "agent-callback-out",
      z: "tab",
      name: "shared queue",
      url: receiverUrl,
      store: "store",
      agentLoopId: "loop_store_metrics",
      retrySchedule: [1],
      wires: [[], []],
    },
  ];
}

describe("Prometheus metrics of callback out with a callback store (redis-server, Node-RED child process)", function () {
  this.timeout(120_000);
  const redis = new RedisServer();
  let receiver: Receiver;
  let nodeRed: NodeRedProcess;

  before(async () => {
    await redis.start();
    receiver = await new Receiver().start();
    nodeRed = new NodeRedProcess({ flows: flows(redis.url, receiver.url) });
    await nodeRed.start();
  });

  after(async () => {
    await nodeRed?.stop();
    nodeRed?.cleanup();
    await receiver?.stop();
    await redis.stop();
    redis.cleanup();
  });

  const feed = async (executionId: string): Promise<void> => {
    const res = await fetch(`${nodeRed.url}/feed`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ execution_id: executionId, status: "completed", result: { output: executionId } }),
    });
    assert.equal(res.status, 200, await res.text());
  };
  const samples = async (): Promise<ReturnType<typeof parseExposition>> => {
    const res = await fetch(`${nodeRed.url}/agent-callback/metrics`);
    assert.equal(res.status, 200);
    return parseExposition(await res.text());
  };

  it("counts failed, delivered and gave_up attempts, times each, and reads waiting from the queue", async () => {
    // The first callback fails once, then is delivered after 1 s; the second is refused with 410 and given up.
    receiver.replies = [{ status: 500 }, { status: 200 }];
    await feed("exec_store_1");
    await pollUntil(
      async () => receiver.requests.length,
      (n) => n >= 2,
      "two attempts of exec_store_1",
    );
    receiver.replies = [{ status: 410 }];
    await feed("exec_store_2");
    const result = (found: ReturnType<typeof parseExposition>, r: string): number | undefined =>
      found.find((s) => s.name === "agent_callback_out_attempts_total" && s.labels.node_id === "out" && s.labels.result === r)?.value;
    const found = await pollUntil(samples, (s) => result(s, "gave_up") === 1, "a gave_up attempt");
    assert.deepEqual(
      ["delivered", "failed", "gave_up"].map((r) => result(found, r)),
      [1, 1, 1],
    );
    const one = (name: string): number | undefined => found.find((s) => s.name === name && s.labels.node_id === "out")?.value;
    assert.equal(one("agent_callback_out_delivery_seconds_count"), 3);
    // The queue is counted in the store at most twice a second: the gauge follows within moments.
    const waiting = await pollUntil(
      samples,
      (s) => s.some((x) => x.name === "agent_callback_out_waiting" && x.value === 0),
      "no callback waiting",
      { timeoutMs: 10_000 },
    );
    assert.ok(waiting.length > 0);
    assert.equal(one("agent_callback_out_paused"), 0);
  });
});
