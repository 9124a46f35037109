// The dedupe memory of callback in is bounded: a flood of distinct execution_ids never holds more
// than its cap (100,000 in the node), forgets the oldest first, and its heap stops growing at the cap;
// first on the module, then through the endpoint of a real Node-RED.
import assert from "node:assert/strict";
import autocannon from "autocannon";
import { DEDUPE_CAP, DedupeMemory } from "../../nodes/lib/receive/dedupe";
import { NodeRedProcess } from "../support/node-red";
import { heapUsedMiB } from "../../bench/lib/heap";
import { callbackInFlow, collectGarbage, deployFlows, gcNodes, gcProcessOptions } from "./support/flows";

describe("reliability: dedupe memory under a flood of distinct ids", function () {
  this.timeout(120_000);

  it(`never holds more than its cap (${DEDUPE_CAP}) and forgets the oldest first`, () => {
    const memory = new DedupeMemory(86_400_000);
    const flood = 2 * DEDUPE_CAP;
    let largest = 0;
    for (let i = 0; i < flood; i++) {
      assert.equal(memory.checkAndRemember(`exec_flood_${i}`), false);
      if (memory.size > largest) largest = memory.size;
    }
    assert.equal(largest, DEDUPE_CAP);
    assert.equal(memory.size, DEDUPE_CAP);
    assert.equal(memory.has(`exec_flood_${flood - 1}`), true, "the newest is remembered");
    assert.equal(memory.has(`exec_flood_${flood - DEDUPE_CAP}`), true, "the oldest still inside the cap is remembered");
    assert.equal(memory.has(`exec_flood_${flood - DEDUPE_CAP - 1}`), false, "the one before it was dropped");
    assert.equal(memory.has("exec_flood_0"), false, "the first was dropped");
  });

  it("stops growing in heap once the cap is reached", () => {
    const before = heapUsedMiB();
    let memory: DedupeMemory | undefined = new DedupeMemory(86_400_000);
    for (let i = 0; i < DEDUPE_CAP; i++) memory.checkAndRemember(`exec_${i.toString(36).padStart(12, "0")}_${i}`);
    const atCap = heapUsedMiB();
    for (let i = DEDUPE_CAP; i < 3 * DEDUPE_CAP; i++) memory.checkAndRemember(`exec_${i.toString(36).padStart(12, "0")}_${i}`);
    const afterFlood = heapUsedMiB();
    assert.equal(memory.size, DEDUPE_CAP);
    console.log(
      `      heap: ${before.toFixed(1)} MiB empty, ${atCap.toFixed(1)} at the cap, ${afterFlood.toFixed(1)} after twice the cap more`,
    );
    assert.ok(atCap - before > 1, "the ids are really held (the measurement sees them)");
    // Unbounded, twice the cap more would add twice what the first cap took; bounded, only the
    // Map's spare capacity moves.
    assert.ok(afterFlood - atCap < 0.25 * (atCap - before), `heap grew ${(afterFlood - atCap).toFixed(1)} MiB past the cap`);
    memory = undefined;
    assert.ok(heapUsedMiB() - before < 2, "and is given back when the node's memory is dropped");
  });

  it("expired ids leave before the cap is needed", () => {
    let now = 0;
    const memory = new DedupeMemory(1000, DEDUPE_CAP, () => now);
    for (let i = 0; i < 50_000; i++) {
      now = i; // one id per millisecond, a TTL of one second: about 1,000 alive at any time
      memory.checkAndRemember(`exec_${i}`);
      assert.ok(memory.size <= 1001, `size ${memory.size} at ${i}`);
    }
  });
});

describe("reliability: callback in under a flood of distinct ids (real Node-RED)", function () {
  this.timeout(300_000);
  const SECRET = "flood-secret-0123456789";
  let nodeRed: NodeRedProcess;

  before(async () => {
    nodeRed = new NodeRedProcess(gcProcessOptions);
    await nodeRed.start();
    await deployFlows(nodeRed.url, [...callbackInFlow("/flood", SECRET, { rateLimit: 0 }), ...gcNodes()], () => nodeRed.log);
  });

  after(async () => {
    await nodeRed?.stop();
    nodeRed?.cleanup();
  });

  // Long ids (as some senders use: UUIDs plus context) make each remembered id cost ~250 bytes, so
  // unbounded growth would stand far above the Map's own table resizing, which is bounded.
  const pad = "x".repeat(200);
  const idOf = (n: number): string => `exec_flood_${n}_${pad}`;
  const post = async (id: string): Promise<Record<string, unknown>> => {
    const res = await fetch(`${nodeRed.url}/flood`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-webhook-secret": SECRET },
      body: JSON.stringify({ agent_loop_id: "loop_flood", execution_id: id, status: "completed" }),
    });
    assert.equal(res.status, 200);
    return (await res.json()) as Record<string, unknown>;
  };

  /** `count` distinct ids, 16 at a time; every one must be accepted as new. */
  const flood = async (from: number, count: number): Promise<void> => {
    const result = await autocannon({
      url: `${nodeRed.url}/flood`,
      connections: 16,
      amount: count,
      timeout: 30,
      requests: [
        {
          method: "POST",
          headers: { "content-type": "application/json", "x-webhook-secret": SECRET },
          setupRequest: (request) => {
            request.body = `{"agent_loop_id":"loop_flood","execution_id":"${idOf(from++)}","status":"completed"}`;
            return request;
          },
        },
      ],
    });
    assert.equal(result.non2xx + result.errors, 0, "every flood request accepted");
  };

  it(`keeps at most ${DEDUPE_CAP} ids: the heap stops growing at the cap and the oldest are forgotten`, async () => {
    const heapOf = async (): Promise<number> => ((await collectGarbage(nodeRed.url)).heapUsed ?? NaN) / 1048576;
    await flood(0, 2_000);
    const empty = await heapOf();
    await flood(2_000, DEDUPE_CAP - 2_000);
    const atCap = await heapOf();
    await flood(DEDUPE_CAP, DEDUPE_CAP / 2);
    const past = await heapOf();
    console.log(
      `      heap: ${empty.toFixed(1)} MiB, ${atCap.toFixed(1)} at ${DEDUPE_CAP} ids, ${past.toFixed(1)} after ${DEDUPE_CAP / 2} more`,
    );
    assert.ok(atCap - empty > 1, "the ids are really held");
    assert.ok(past - atCap < 0.25 * (atCap - empty), `heap grew ${(past - atCap).toFixed(1)} MiB past the cap`);
    const last = DEDUPE_CAP + DEDUPE_CAP / 2 - 1;
    assert.deepEqual(await post(idOf(last)), { received: true, duplicate: true }, "a recent id is still a duplicate");
    assert.deepEqual(await post(idOf(0)), { received: true }, "the oldest id was forgotten (memory bounded)");
  });
});
