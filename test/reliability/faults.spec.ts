// 1,000 callbacks through a receiver that fails 30% of requests at random (500s, connection
// resets, hangs past the node's timeout, some of them after it has already accepted the
// callback): every callback is delivered, and each execution_id lands in the receiver's accepted
// set exactly once, with the same bytes on every retry.
import assert from "node:assert/strict";
import { NodeRedProcess } from "../support/node-red";
import { FaultReceiver } from "./support/fault-receiver";
import { callbackOfSize } from "./support/payloads";
import { callbackOutFlow, deployFlows, harnessProcessOptions, probe, startFeed } from "./support/flows";
import { waitUntil } from "../../bench/lib/proc";

const COUNT = 1000;

describe("reliability: callback out through a receiver that fails 30% of requests", function () {
  this.timeout(300_000);
  let receiver: FaultReceiver;
  let nodeRed: NodeRedProcess;

  before(async () => {
    receiver = new FaultReceiver({ faultRate: 0.3, faults: ["500", "reset", "hang"], hangMs: 3_000, seed: 20261127 });
    await receiver.start();
    nodeRed = new NodeRedProcess(harnessProcessOptions);
    await nodeRed.start();
  });

  after(async () => {
    await nodeRed?.stop();
    nodeRed?.cleanup();
    await receiver?.stop();
  });

  it(`delivers all ${COUNT}, each execution_id accepted exactly once, none given up`, async () => {
    const template = callbackOfSize("exec_template", 512);
    // Small schedule (fractions of a second) with enough tries that 30% failures never exhaust it:
    // 0.3^16 per callback.
    const retrySchedule = [0.05, 0.1, 0.2, 0.2, 0.3, 0.3, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5];
    await deployFlows(
      nodeRed.url,
      callbackOutFlow(`${receiver.url}/agent-results`, template, {
        concurrency: 8,
        timeout: 1,
        retrySchedule,
        maxQueue: 5000,
        window: 200,
      }),
      () => nodeRed.log,
    );
    await startFeed(nodeRed.url, COUNT);
    await receiver.waitForAccepted(COUNT, 240_000);
    await waitUntil(
      async () => {
        const p = await probe(nodeRed.url);
        return p.outputs[0] + p.outputs[1] >= COUNT;
      },
      120_000,
      "every callback to leave callback out",
    );
    const outputs = (await probe(nodeRed.url)).outputs;

    const expected = new Set(Array.from({ length: COUNT }, (_, i) => `exec_${i}`));
    assert.deepEqual(new Set(receiver.accepted.keys()), expected, "the accepted set is exactly the callbacks sent");
    for (const [id, body] of receiver.accepted) {
      assert.deepEqual(JSON.parse(body), { ...template, execution_id: id }, `${id} arrived as sent`);
    }
    assert.equal(receiver.stats.mismatched, 0, "every retry carried the same bytes as the first attempt");
    assert.deepEqual(outputs, [COUNT, 0], "delivered once each on output 1, nothing on gave up");
    // The faults really happened, including after acceptance (so the dedupe had repeats to absorb).
    assert.ok(receiver.stats.faults["500"] > 50, `500s injected: ${receiver.stats.faults["500"]}`);
    assert.ok(receiver.stats.faults.reset > 50, `resets injected: ${receiver.stats.faults.reset}`);
    assert.ok(receiver.stats.faults.hang > 50, `hangs injected: ${receiver.stats.faults.hang}`);
    assert.ok(receiver.stats.duplicates > 0, "some callbacks were accepted, then retried after a fault");
    console.log(`      receiver: ${JSON.stringify({ ...receiver.stats, lastAcceptedAt: undefined })}`);
  });
});
