// Issue 22's proof with a callback store: two Node-RED child processes run the same callback out
// flow over one real redis-server, against a real receiver that fails, then recovers. The pause,
// its test attempts, the pace and a Retry-After hold are shared: the receiver gets at most one
// attempt per pauseFor from both together, none of 200 callbacks gives up during a 30 s outage
// with retrySchedule [1, 1, 1], all are delivered once, and maxRate 20 holds for both together.
import assert from "node:assert/strict";
import { Pool } from "undici";
import { NodeRedProcess } from "../support/node-red";
import { Receiver, type Received } from "../support/receiver";
import { RedisServer } from "../support/redis-server";
import { parseExposition } from "../support/prometheus";
import { assertRetryAfterHoldsReceiver } from "./support/receiver-hold";
import { callbackOfSize } from "./support/payloads";
import { deployFlows, enqueueFlow, type CallbackOutOptions } from "./support/flows";
import { waitUntil } from "../../bench/lib/proc";

const FAILING = { status: 503, body: "down" };
const idOf = (request: Received): string => String(request.json.execution_id);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe("receiver pause and pace with a callback store (two Node-RED processes, real redis-server)", function () {
  this.timeout(300_000);
  const redis = new RedisServer();
  let instances: NodeRedProcess[] = [];
  let receiver: Receiver;
  let run = 0;
  /** The callback out node of the flow deployed last. */
  let nodeId = "";

  before(async () => {
    await redis.start();
  });
  after(async () => {
    await redis.stop();
    redis.cleanup();
  });
  beforeEach(async () => {
    receiver = await new Receiver().start();
    instances = [new NodeRedProcess(), new NodeRedProcess()];
    await Promise.all(instances.map((instance) => instance.start()));
  });
  afterEach(async () => {
    await Promise.all(instances.map((instance) => instance.stop()));
    await receiver.stop();
  });

  /** The same flow on both instances, a fresh node id (queue) for each test. */
  const deploy = async (options: CallbackOutOptions): Promise<void> => {
    const prefix = `run${++run}-`;
    nodeId = `${prefix}cb-out`;
    const flows = enqueueFlow(receiver.url, { store: redis.url, countOutputs: false, ...options }).map((node) => {
      const copy = JSON.parse(JSON.stringify(node).replaceAll('"cb-out', `"${prefix}cb-out`)) as typeof node;
      return copy;
    });
    for (const instance of instances) await deployFlows(instance.url, flows, () => instance.log);
  };
  /** Queues `count` callbacks through both instances by turns; each 200 means Redis has it. */
  const feed = async (count: number, from = 0): Promise<void> => {
    const pools = instances.map((instance) => new Pool(instance.url, { connections: 4 }));
    let next = from;
    const worker = async (): Promise<void> => {
      while (next < from + count) {
        const i = next++;
        const res = await (pools[i % 2] as Pool).request({
          method: "POST",
          path: "/__enqueue",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(callbackOfSize(`exec_${i}`, 400, i)),
        });
        assert.equal(res.statusCode, 200, await res.body.text());
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    await Promise.all(pools.map((pool) => pool.close()));
  };
  const metric = async (instance: NodeRedProcess, name: string, labels: Record<string, string> = {}): Promise<number | undefined> => {
    const text = await (await fetch(`${instance.url}/agent-callback/metrics`)).text();
    return parseExposition(text).find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
  };
  const pausedEverywhere = async (value: number): Promise<boolean> =>
    (await Promise.all(instances.map((i) => metric(i, "agent_callback_out_paused")))).every((v) => v === value);

  it("pauses the receiver for both instances, one test per pauseFor between them, none of 200 gives up, all delivered once", async () => {
    await deploy({ pauseAfter: 5, pauseFor: 2, retrySchedule: [1, 1, 1], concurrency: 4 });
    receiver.defaultReply = FAILING;
    const outageStart = Date.now();
    await feed(200);
    await receiver.waitFor((requests) => requests.length >= 5, 20_000, "the first failed attempts");
    // Both instances read the pause from the store (the one that did not pause it too).
    await waitUntil(() => pausedEverywhere(1), 10_000, "both instances' paused gauge at 1");
    const pausedAt = Date.now();
    // The agent callbacks tab of either instance shows the pause in its health line.
    for (const instance of instances) {
      const view = (await (await fetch(`${instance.url}/agent-callback/out/${nodeId}`)).json()) as {
        health: { paused?: { since: number } };
      };
      assert.ok(view.health.paused && view.health.paused.since >= outageStart, JSON.stringify(view.health));
    }
    const logs = instances.map((i) => i.log.match(/paused after 5 failed attempts in a row/g)?.length ?? 0);
    assert.deepEqual([...logs].sort(), [0, 1], "the pause is logged once, by the instance whose attempt paused it");
    await sleep(30_000 - (Date.now() - outageStart));
    const failing = [...receiver.requests];
    receiver.defaultReply = { status: 200, body: "ok" };

    const tests = failing.filter((r) => r.at > pausedAt);
    for (let i = 1; i < tests.length; i++) {
      const gap = (tests[i] as Received).at - (tests[i - 1] as Received).at;
      assert.ok(gap >= 1900, `test attempt ${i + 1} came ${gap} ms after the one before, from both instances (pauseFor 2 s)`);
    }
    // 5 failures, what both had in flight at the pause (2 x 4), then one test per 2 s.
    assert.ok(failing.length <= 13 + 16, `${failing.length} attempts during a 30 s outage`);
    assert.ok(tests.length >= 8, `test attempts went on during the outage (${tests.length} in ${Date.now() - pausedAt} ms)`);

    await receiver.waitFor(
      (requests) => new Set(requests.filter((r) => r.answered === 200).map(idOf)).size >= 200,
      60_000,
      "200 delivered",
    );
    await sleep(1500);
    const delivered = receiver.requests.filter((r) => r.answered === 200).map(idOf);
    assert.equal(delivered.length, 200, "each callback delivered exactly once");
    assert.equal(new Set(delivered).size, 200);
    for (const instance of instances) {
      assert.equal((await metric(instance, "agent_callback_out_attempts_total", { result: "gave_up" })) ?? 0, 0, "none gave up");
    }
    await waitUntil(() => pausedEverywhere(0), 10_000, "both instances' paused gauge back at 0");
    const said = instances.flatMap((i, n) =>
      i.log
        .split("\n")
        .filter((l) => /paused after|answers again/.test(l))
        .map((l) => `${n}: ${l}`),
    );
    assert.equal(said.filter((l) => /answers again \(paused since/.test(l)).length, 1, `resumed once:\n${said.join("\n")}`);
  });

  it("maxRate 20 holds for both instances together: 100 deliveries over at least 4.5 s", async () => {
    await deploy({ maxRate: 20, concurrency: 8 });
    await feed(100);
    await receiver.waitFor((requests) => requests.length >= 100, 60_000, "100 deliveries");
    const times = receiver.requests.map((r) => r.at).sort((a, b) => a - b);
    for (let i = 20; i < times.length; i++) {
      const window = (times[i] as number) - (times[i - 20] as number);
      assert.ok(window >= 850, `deliveries ${i - 19} to ${i + 1} within ${window} ms (maxRate 20 for both)`);
    }
    assert.ok((times[99] as number) - (times[0] as number) >= 4500);
    assert.equal(new Set(receiver.requests.map(idOf)).size, 100);
  });

  it("a 503 with Retry-After: 3 holds every callback to that receiver, on both instances", async () => {
    await deploy({ concurrency: 2, retrySchedule: [0.2, 0.2] });
    await assertRetryAfterHoldsReceiver(receiver, feed);
  });
});
