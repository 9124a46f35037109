// Two Node-RED instances with the same callback out flow and one callback store (a real
// redis-server): 1,000 callbacks queued through both while the receiver hangs (attempts in flight,
// entries leased), one instance killed with SIGKILL while it holds entries (read from Redis), the
// receiver back, Redis restarted during delivery: every acknowledged callback is delivered, each
// execution_id accepted once by the receiver, and those the dead instance held by the other one
// once their lease ran out.
import assert from "node:assert/strict";
import { Pool } from "undici";
import { NodeRedProcess, freePort } from "../support/node-red";
import { Receiver } from "../support/receiver";
import { RedisServer } from "../support/redis-server";
import { openStore } from "../support/store";
import { callbackOfSize } from "./support/payloads";
import { deployFlows, enqueueFlow } from "./support/flows";
import { waitUntil } from "../../bench/lib/proc";
import type { StoreConnection } from "../../nodes/lib/store/connection";

const TOTAL = 1000;
const CONCURRENCY = 4;
const LEASE_SECONDS = 10;
const QUEUE = "agent-callback:outbox:cb-out";

/** The entries the instance with process id `pid` holds (its lease tokens are host:pid:random), with their lease ends. */
async function heldBy(admin: StoreConnection, pid: number): Promise<Map<string, { executionId: string; leaseEnd: number }>> {
  const leases = (await admin.sendCommand(["HGETALL", `${QUEUE}:lease`])) as Record<string, string>;
  const held = new Map<string, { executionId: string; leaseEnd: number }>();
  for (const [id, token] of Object.entries(leases)) {
    if (token.split(":")[1] !== String(pid)) continue;
    const entry = JSON.parse(String(await admin.sendCommand(["HGET", `${QUEUE}:entries`, id]))) as { executionId: string };
    const leaseEnd = Number(await admin.sendCommand(["ZSCORE", `${QUEUE}:due`, id]));
    held.set(id, { executionId: entry.executionId, leaseEnd });
  }
  return held;
}

describe("reliability: two instances deliver one outbox in Redis", function () {
  this.timeout(400_000);
  const redis = new RedisServer();
  const instances = [new NodeRedProcess(), new NodeRedProcess()];
  const receiver = new Receiver();
  // Answers nothing: every attempt stays in flight until its timeout, its entry leased meanwhile.
  const hanging = new Receiver();
  hanging.defaultReply = "hang";
  let admin: StoreConnection;

  before(async () => {
    await redis.start();
    admin = await openStore(redis.url, "agent-callback:");
    await Promise.all(instances.map((instance) => instance.start()));
  });

  after(async () => {
    await Promise.all(instances.map((instance) => instance.kill()));
    for (const instance of instances) instance.cleanup();
    await admin.close();
    await hanging.stop();
    await receiver.stop();
    await redis.stop();
    redis.cleanup();
  });

  it("delivers all 1,000 after a SIGKILL and a Redis restart, each execution_id accepted once", async () => {
    const receiverPort = await freePort();
    await hanging.start(receiverPort);
    const flows = enqueueFlow(`http://127.0.0.1:${receiverPort}/agent-results`, {
      concurrency: CONCURRENCY,
      timeout: 2,
      retrySchedule: Array.from({ length: 100 }, () => 0.5),
      store: redis.url,
      leaseSeconds: LEASE_SECONDS,
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

    // One instance dies with what it holds: attempts in flight to the hanging receiver.
    const victim = instances[0] as NodeRedProcess;
    const pid = victim.pid;
    await waitUntil(async () => (await heldBy(admin, pid)).size > 0, 60_000, "the instance to be killed holds entries");
    await victim.kill();
    // Read after the kill, this is exactly what it held when it died: a dead holder changes nothing,
    // and no other instance may take an entry before its lease ends.
    const held = await heldBy(admin, pid);
    assert.ok(held.size > 0 && held.size <= CONCURRENCY, `the killed instance held ${held.size} entries`);
    for (const { executionId, leaseEnd } of held.values()) {
      assert.ok(leaseEnd > Date.now(), `${executionId} still leased to the dead instance`);
    }
    // The hanging receiver answered nothing: no attempt before the kill was accepted.
    await hanging.stop();
    receiver.defaultReply = { status: 200, headers: { "Content-Type": "application/json" }, body: '{"received":true}' };
    await receiver.start(receiverPort);
    const unique = (): Set<string> => new Set(receiver.requests.map((r) => String(r.json.execution_id)));

    // Redis goes down and comes back while the survivor delivers.
    await waitUntil(() => unique().size >= TOTAL / 4, 120_000, "a quarter delivered");
    await redis.stop();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await redis.start();

    // What the dead instance held is delivered by the survivor once the lease has run out, once each.
    const heldIds = [...held.values()];
    await waitUntil(() => heldIds.every(({ executionId }) => unique().has(executionId)), 120_000, "the dead instance's entries delivered");
    for (const { executionId, leaseEnd } of heldIds) {
      const accepted = receiver.requests.filter((r) => r.json.execution_id === executionId && r.answered === 200);
      assert.equal(accepted.length, 1, `${executionId} accepted once`);
      assert.ok((accepted[0] as { at: number }).at >= leaseEnd, `${executionId} delivered after its lease (${leaseEnd})`);
    }

    await waitUntil(() => unique().size >= TOTAL, 240_000, "all delivered");
    const delivered = unique();
    for (const id of acknowledged) assert.ok(delivered.has(id), `${id} delivered`);
    // A callback goes out twice only when an attempt had reached the receiver but its result could
    // not be written (the killed instance's, or while Redis was down): at most the attempts in flight.
    const repeats = receiver.requests.length - delivered.size;
    assert.ok(repeats <= 2 * CONCURRENCY, `repeated deliveries: ${repeats}`);
  });
});
