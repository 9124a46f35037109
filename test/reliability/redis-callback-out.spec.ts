// Two Node-RED instances with the same callback out flow and one callback store (a real
// redis-server): 1,000 callbacks queued through both while the receiver is down, one instance
// killed with SIGKILL, the receiver back, Redis restarted during delivery: every acknowledged
// callback is delivered, each execution_id accepted once by the receiver, whichever instance sent it.
import assert from "node:assert/strict";
import { Pool } from "undici";
import { NodeRedProcess, freePort } from "../support/node-red";
import { Receiver } from "../support/receiver";
import { RedisServer } from "../support/redis-server";
import { callbackOfSize } from "./support/payloads";
import { deployFlows, enqueueFlow } from "./support/flows";
import { waitUntil } from "../../bench/lib/proc";

const TOTAL = 1000;
const CONCURRENCY = 4;

describe("reliability: two instances deliver one outbox in Redis", function () {
  this.timeout(400_000);
  const redis = new RedisServer();
  const instances = [new NodeRedProcess(), new NodeRedProcess()];
  const receiver = new Receiver();

  before(async () => {
    await redis.start();
    await Promise.all(instances.map((instance) => instance.start()));
  });

  after(async () => {
    await Promise.all(instances.map((instance) => instance.kill()));
    for (const instance of instances) instance.cleanup();
    await receiver.stop();
    await redis.stop();
    redis.cleanup();
  });

  it("delivers all 1,000 after a SIGKILL and a Redis restart, each execution_id accepted once", async () => {
    const receiverPort = await freePort();
    const flows = enqueueFlow(`http://127.0.0.1:${receiverPort}/agent-results`, {
      concurrency: CONCURRENCY,
      timeout: 2,
      retrySchedule: Array.from({ length: 100 }, () => 0.5),
      store: redis.url,
      leaseSeconds: 3,
    });
    for (const instance of instances) await deployFlows(instance.url, flows, () => instance.log);

    // Queue through both instances, alternately; a 200 means the store has it.
    const pools = instances.map((instance) => new Pool(instance.url, { connections: 4 }));
    const acknowledged = new Set<string>();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < TOTAL) {
        const i = next++;
        const id = `exec_redis_out_${i}`;
        const res = await (pools[i % 2] as Pool).request({
          method: "POST",
          path: "/__enqueue",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(callbackOfSize(id, 600, i)),
        });
        const text = await res.body.text();
        assert.equal(res.statusCode, 200, text);
        acknowledged.add(id);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    await Promise.all(pools.map((pool) => pool.close()));
    assert.equal(acknowledged.size, TOTAL);

    // One instance dies with whatever it holds; the receiver comes back.
    await (instances[0] as NodeRedProcess).kill();
    receiver.defaultReply = { status: 200, headers: { "Content-Type": "application/json" }, body: '{"received":true}' };
    await receiver.start(receiverPort);
    const unique = (): Set<string> => new Set(receiver.requests.map((r) => String(r.json.execution_id)));

    // Redis goes down and comes back while the survivor delivers.
    await waitUntil(() => unique().size >= TOTAL / 4, 120_000, "a quarter delivered");
    await redis.stop();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await redis.start();

    await waitUntil(() => unique().size >= TOTAL, 240_000, "all delivered");
    const delivered = unique();
    for (const id of acknowledged) assert.ok(delivered.has(id), `${id} delivered`);
    // A callback goes out twice only when an attempt had reached the receiver but its result could
    // not be written (the killed instance's, or while Redis was down): at most the attempts in flight.
    const repeats = receiver.requests.length - delivered.size;
    assert.ok(repeats <= 2 * CONCURRENCY, `repeated deliveries: ${repeats}`);
  });
});
