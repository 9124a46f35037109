import assert from "node:assert/strict";
import { RequestLog } from "../../../nodes/lib/receive/request-log";
import type { RequestRecord } from "../../../nodes/lib/shared/views";
import type { Reading, ReceivedPayload } from "../../../nodes/lib/receive/sources/source";

/** What the log keeps of an accepted request: here just a payload to tell them apart. */
function kept(payload: Record<string, unknown>): Reading {
  return { key: "k", output: 0, payload: payload as unknown as ReceivedPayload, topic: "" };
}

function req(n: number, outcome = "accepted"): RequestRecord {
  return {
    at: n,
    client: "127.0.0.1",
    reply: outcome === "accepted" || outcome === "duplicate" ? 200 : 401,
    outcome,
    executionId: `exec_${n}`,
  };
}

describe("lib/receive/request-log", () => {
  it("keeps the latest 200 requests, newest first, and counts every outcome; refusals alike fold into one entry", () => {
    const log = new RequestLog();
    for (let n = 0; n < 300; n++) log.record(req(n, n % 5 === 0 ? "bad-signature" : n % 7 === 0 ? "duplicate" : "accepted"));
    const list = log.list();
    // 240 accepted or duplicate (the latest 200 kept) and 60 refusals alike folded into one entry.
    assert.equal(list.length, 201);
    assert.equal(list[0]?.executionId, "exec_299");
    // Listed where the latest of them arrived (295), after 296 to 299.
    assert.deepEqual([list[4]?.outcome, list[4]?.count, list[4]?.at], ["bad-signature", 60, 295]);
    assert.equal(list[200]?.executionId, "exec_51");
    const counts = log.counts();
    assert.equal(counts.accepted + counts.duplicate + counts.refused, 300);
    assert.equal(counts.refused, 60);
  });

  it("refusals never push an accepted callback out: 250 after it, alike or from 250 addresses", () => {
    for (const client of [(): string => "127.0.0.1", (n: number): string => `10.0.${n >> 8}.${n & 255}`]) {
      const log = new RequestLog();
      const accepted = log.record(req(0), kept({ n: 0 }), 10);
      for (let n = 1; n <= 250; n++) log.record({ ...req(n, "wrong-secret"), client: client(n) });
      const list = log.list();
      assert.ok(list.length <= 51, `${list.length} entries`);
      assert.equal(list.at(-1)?.id, accepted);
      assert.deepEqual(log.reading(accepted)?.payload, { n: 0 });
      assert.equal(log.counts().refused, 250);
    }
  });

  it("lists simulated and replayed payloads with their output, without counting them as requests", () => {
    const log = new RequestLog();
    log.record(req(1));
    log.record({ at: 2, client: "", reply: 0, outcome: "simulated", executionId: "exec_sim_1", output: "failed" });
    log.record({ at: 3, client: "", reply: 0, outcome: "replayed", executionId: "exec_1", output: "completed" });
    assert.deepEqual(
      log.list().map((r) => [r.outcome, r.executionId, r.output]),
      [
        ["replayed", "exec_1", "completed"],
        ["simulated", "exec_sim_1", "failed"],
        ["accepted", "exec_1", undefined],
      ],
    );
    assert.deepEqual(log.counts(), { accepted: 1, duplicate: 0, refused: 0 });
  });

  it("keeps accepted payloads for replay within the byte budget, letting go of the oldest first", () => {
    const log = new RequestLog(200, 1000);
    const ids: number[] = [];
    for (let n = 0; n < 5; n++) ids.push(log.record(req(n), kept({ n }), 300));
    // 5 x 300 bytes > 1000: only the newest three payloads are kept.
    assert.equal(log.reading(ids[0] as number)?.payload, undefined);
    assert.equal(log.reading(ids[1] as number)?.payload, undefined);
    assert.deepEqual(log.reading(ids[4] as number)?.payload, { n: 4 });
    assert.deepEqual(
      log.list().map((r) => r.replayable),
      [true, true, true, false, false],
    );
    assert.ok(log.has(ids[0] as number));
    // A payload larger than the whole budget is not kept, and takes none of the others.
    const big = log.record(req(9), kept({ big: true }), 5000);
    assert.equal(log.reading(big)?.payload, undefined);
    assert.deepEqual(log.reading(ids[4] as number)?.payload, { n: 4 });
  });

  it("a request pushed out of the log gives its payload bytes back", () => {
    const log = new RequestLog(2, 1000);
    log.record(req(1), kept({ n: 1 }), 600);
    log.record(req(2, "duplicate"));
    log.record(req(3, "duplicate")); // pushes request 1 (and its 600 bytes) out
    const id = log.record(req(4), kept({ n: 4 }), 900);
    assert.deepEqual(log.reading(id)?.payload, { n: 4 });
    assert.equal(log.has(1), false);
  });

  it("holds no more payload entries than the log keeps, however many requests pass within the budget", () => {
    const log = new RequestLog(200, 1024 * 1024);
    for (let n = 1; n <= 10_000; n++) log.record(req(n), kept({ n }), 100);
    // 200 in the ring, and at most the 1,024 stepped past before the list is compacted.
    assert.ok(log.listedPayloads <= 200, `listed ${log.listedPayloads}`);
    const internal = log as unknown as { withPayload: unknown[] };
    assert.ok(internal.withPayload.length <= 200 + 1025, `kept ${internal.withPayload.length} entries`);
  });
});
