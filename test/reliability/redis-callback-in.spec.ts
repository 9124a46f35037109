// Two Node-RED instances with the same callback in flow and one callback store (a real
// redis-server), behind a round-robin proxy: 1,000 callbacks, 20% of them sent twice (half of
// those to both instances at the same moment), with Redis restarted in the middle, are emitted
// exactly once across the two; and the rate limit holds for the endpoint, not per instance.
import assert from "node:assert/strict";
import { Pool } from "undici";
import { NodeRedProcess } from "../support/node-red";
import { RedisServer } from "../support/redis-server";
import { RoundRobinProxy } from "../support/round-robin-proxy";
import { callbackOfSize, seededRandom } from "./support/payloads";
import { callbackInFlow, deployFlows } from "./support/flows";

const SECRET = "reliability-secret-0123456789";
const PATH = "/agent-results";
const TOTAL = 1000;

type Send = "once" | "twice" | "both-at-once";

/**
 * POSTs until the endpoint says 200 (a 503 while the store is down or while a claim lost in the
 * restart is still pending, or a 502 from the proxy, is retried), for up to 90 s: longer than the
 * 30 s a pending claim is held, as a sender's own retries would be.
 */
async function postUntilAccepted(pool: Pool, body: string, refusals: Map<number, number>): Promise<void> {
  const giveUpAt = Date.now() + 90_000;
  while (Date.now() < giveUpAt) {
    const res = await pool.request({
      method: "POST",
      path: PATH,
      headers: { "content-type": "application/json", "x-webhook-secret": SECRET },
      body,
    });
    await res.body.text();
    if (res.statusCode === 200) return;
    refusals.set(res.statusCode, (refusals.get(res.statusCode) ?? 0) + 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("callback never accepted");
}

async function emitted(instance: NodeRedProcess): Promise<string[]> {
  const res = await fetch(`${instance.url}/__emitted`);
  const rows = (await res.json()) as Array<[string, string, string]>;
  return rows.map(([, id]) => id);
}

describe("reliability: two instances share dedupe and rate limit through Redis", function () {
  this.timeout(300_000);
  const redis = new RedisServer();
  const instances = [new NodeRedProcess(), new NodeRedProcess()];
  const proxy = new RoundRobinProxy(instances.map((instance) => () => instance.port));

  before(async () => {
    await redis.start();
    await Promise.all(instances.map((instance) => instance.start()));
    await proxy.start();
  });

  after(async () => {
    await proxy.stop();
    await Promise.all(instances.map((instance) => instance.stop()));
    for (const instance of instances) instance.cleanup();
    await redis.stop();
    redis.cleanup();
  });

  it("emits each of 1,000 callbacks exactly once across both instances, through a Redis restart", async () => {
    const flows = callbackInFlow(PATH, SECRET, { record: true, store: redis.url });
    for (const instance of instances) await deployFlows(instance.url, flows, () => instance.log);

    const random = seededRandom(15);
    const plan: Array<{ body: string; send: Send }> = [];
    for (let i = 0; i < TOTAL; i++) {
      const roll = random();
      const send: Send = roll < 0.1 ? "twice" : roll < 0.2 ? "both-at-once" : "once";
      plan.push({ body: JSON.stringify(callbackOfSize(`exec_redis_in_${i}`, 600, i)), send });
    }
    const viaProxy = new Pool(proxy.url, { connections: 8 });
    const direct = instances.map((instance) => new Pool(instance.url, { connections: 4 }));
    const refusals = new Map<number, number>();
    let next = 0;
    let restarted: Promise<void> | undefined;
    const worker = async (): Promise<void> => {
      while (next < plan.length) {
        const index = next++;
        const { body, send } = plan[index] as { body: string; send: Send };
        // Redis goes down and comes back while the callbacks keep coming.
        if (index === TOTAL / 2)
          restarted = redis.stop().then(() => new Promise((resolve) => setTimeout(resolve, 1000)).then(() => redis.start()));
        if (send === "both-at-once") {
          await Promise.all(direct.map((pool) => postUntilAccepted(pool, body, refusals)));
        } else {
          await postUntilAccepted(viaProxy, body, refusals);
          if (send === "twice") await postUntilAccepted(viaProxy, body, refusals);
        }
      }
    };
    await Promise.all(Array.from({ length: 12 }, worker));
    await restarted;
    await viaProxy.close();
    await Promise.all(direct.map((pool) => pool.close()));

    const all = [...(await emitted(instances[0] as NodeRedProcess)), ...(await emitted(instances[1] as NodeRedProcess))];
    const counts = new Map<string, number>();
    for (const id of all) counts.set(id, (counts.get(id) ?? 0) + 1);
    const twice = [...counts].filter(([, count]) => count > 1);
    assert.deepEqual(twice, [], "no callback emitted twice");
    assert.equal(counts.size, TOTAL, "every callback emitted");
    assert.ok(
      proxy.forwarded.every((count) => count > 100),
      `both instances got requests: ${proxy.forwarded.join(", ")}`,
    );
    assert.ok((refusals.get(503) ?? 0) > 0, `the restart was seen as 503s: ${JSON.stringify([...refusals])}`);
  });

  it("holds the endpoint's rate limit across both instances", async () => {
    const flows = callbackInFlow(PATH, SECRET, { store: redis.url, rateLimit: 60 });
    for (const instance of instances) await deployFlows(instance.url, flows, () => instance.log);
    const pool = new Pool(proxy.url, { connections: 8 });
    const statuses: number[] = [];
    const started = Date.now();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < 300) {
        const i = next++;
        const res = await pool.request({
          method: "POST",
          path: PATH,
          headers: { "content-type": "application/json", "x-webhook-secret": SECRET },
          body: JSON.stringify(callbackOfSize(`exec_redis_rate_${i}`, 300, i)),
        });
        await res.body.text();
        statuses.push(res.statusCode);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    const seconds = (Date.now() - started) / 1000;
    await pool.close();
    const accepted = statuses.filter((s) => s === 200).length;
    const limited = statuses.filter((s) => s === 429).length;
    // 60 a minute for the endpoint: the burst of 60 plus one a second while the run lasted.
    // Separate buckets per instance would have let 120 through at once.
    assert.ok(accepted >= 60, `accepted ${accepted}`);
    assert.ok(accepted <= 60 + Math.ceil(seconds) + 1, `accepted ${accepted} in ${seconds} s`);
    assert.equal(accepted + limited, 300);
  });
});
