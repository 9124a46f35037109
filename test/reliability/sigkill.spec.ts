// Node-RED killed with SIGKILL three times while 1,000 callbacks go out, restarted each time:
// every callback the node acknowledged is delivered, none is lost or corrupted, and the outbox
// journal survives a torn last write (a record cut short by the crash).
import assert from "node:assert/strict";
import { appendFileSync, existsSync, mkdtempSync, copyFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Pool } from "undici";
import { NodeRedProcess } from "../support/node-red";
import { Outbox } from "../../nodes/lib/outbox/outbox";
import { journalFileName } from "../../nodes/lib/outbox/records";
import { FaultReceiver } from "./support/fault-receiver";
import { callbackOfSize } from "./support/payloads";
import { deployFlows, enqueueFlow, probe } from "./support/flows";
import { waitUntil } from "../../bench/lib/proc";

const COUNT = 1000;
const KILL_AT = [250, 500, 750];

describe("reliability: SIGKILL three times during 1,000 callbacks", function () {
  this.timeout(400_000);
  let receiver: FaultReceiver;
  let nodeRed: NodeRedProcess;

  before(async () => {
    // A slow receiver (and a few 500s) keeps callbacks pending in the outbox when the kills land.
    receiver = new FaultReceiver({ latencyMs: 15, faultRate: 0.1, faults: ["500"], seed: 7 });
    await receiver.start();
    nodeRed = new NodeRedProcess();
    await nodeRed.start();
  });

  after(async () => {
    await nodeRed?.kill();
    nodeRed?.cleanup();
    await receiver?.stop();
  });

  it("delivers every acknowledged callback exactly as sent; a torn last record is dropped", async () => {
    await deployFlows(
      nodeRed.url,
      enqueueFlow(`${receiver.url}/agent-results`, {
        concurrency: 4,
        timeout: 2,
        retrySchedule: [0.1, 0.2, 0.5, 1, 1, 1, 1, 1, 1, 1],
        maxQueue: 5000,
      }),
      () => nodeRed.log,
    );
    const journal = path.join(nodeRed.userDir, "agent-callback-outbox", journalFileName("cb-out"));
    const sent = new Map<string, string>();
    for (let i = 0; i < COUNT; i++) sent.set(`exec_${i}`, JSON.stringify(callbackOfSize(`exec_${i}`, 700, i)));
    const acked = new Set<string>();
    let attempts = 0;
    let down = false;

    // The client: POSTs each callback until Node-RED says it is on disk (200), through the crashes.
    const client = async (): Promise<void> => {
      const ids = [...sent.keys()];
      let next = 0;
      let pool = new Pool(nodeRed.url, { connections: 8 });
      const worker = async (): Promise<void> => {
        while (next < ids.length) {
          const id = ids[next++] as string;
          for (;;) {
            attempts++;
            try {
              if (!down) {
                const res = await pool.request({
                  method: "POST",
                  path: "/__enqueue",
                  headers: { "content-type": "application/json" },
                  body: sent.get(id),
                });
                await res.body.text();
                if (res.statusCode === 200) {
                  acked.add(id);
                  break;
                }
              }
            } catch {
              // Node-RED is down or was killed mid-request: the callback may or may not be on disk; send it again.
            }
            await new Promise((resolve) => setTimeout(resolve, 50));
            if (pool.closed || pool.destroyed) pool = new Pool(nodeRed.url, { connections: 8 });
          }
        }
      };
      await Promise.all(Array.from({ length: 8 }, worker));
      await pool.close();
    };

    const pendingAtKill: number[] = [];
    const resumedAfterKill: number[] = [];
    const killer = async (): Promise<void> => {
      for (const [k, threshold] of KILL_AT.entries()) {
        await waitUntil(() => acked.size >= threshold, 120_000, `${threshold} callbacks acknowledged`, 5);
        down = true;
        await nodeRed.kill();
        pendingAtKill.push(acked.size - receiver.accepted.size);
        if (k === 1) {
          // A crash in the middle of an append: half a record, no newline. It was never acknowledged.
          const torn = JSON.stringify({
            op: "add",
            entry: { id: "torn", executionId: "exec_torn", body: sent.get("exec_0"), attempts: 0, dueAt: 0, createdAt: 0 },
          });
          appendFileSync(journal, torn.slice(0, Math.floor(torn.length / 2)));
        }
        await nodeRed.start();
        down = false;
        if (k === 1) await nodeRed.waitFor(/was cut short \(crash while writing\)/, 30_000);
        // The outbox opens after the flows start: give it time to say what it resumed.
        await nodeRed.waitFor(/resuming \d+ pending/, 15_000).catch(() => undefined);
        const resumed = /resuming (\d+) pending/.exec(nodeRed.log);
        resumedAfterKill.push(resumed ? Number(resumed[1]) : 0);
      }
    };

    await Promise.all([client(), killer()]);
    await receiver.waitForAccepted(COUNT, 180_000);
    await waitUntil(async () => (await probe(nodeRed.url)).status?.text === "delivered 200", 60_000, "callback out to finish");

    assert.equal(acked.size, COUNT, "every callback was acknowledged in the end");
    assert.deepEqual(new Set(receiver.accepted.keys()), new Set(sent.keys()), "none lost, no stranger (the torn record is not sent)");
    for (const [id, body] of receiver.accepted) {
      assert.deepEqual(JSON.parse(body), JSON.parse(sent.get(id) ?? ""), `${id} arrived uncorrupted`);
    }
    assert.equal(receiver.stats.mismatched, 0, "a repeated callback always carried the same content");
    assert.equal(receiver.stats.invalid, 0);
    assert.ok(
      pendingAtKill.some((n) => n > 0),
      `callbacks were pending at the kills: ${pendingAtKill.join(", ")}`,
    );
    assert.ok(
      resumedAfterKill.some((n) => n > 0),
      `the node resumed pending callbacks after restarts: ${resumedAfterKill.join(", ")}`,
    );

    // After a clean stop the journal replays to nothing pending.
    await nodeRed.stop();
    assert.ok(existsSync(journal));
    const copyDir = mkdtempSync(path.join(tmpdir(), "outbox-copy-"));
    try {
      const copy = path.join(copyDir, "journal.jsonl");
      copyFileSync(journal, copy);
      const { outbox, replay } = await Outbox.open(copy);
      await outbox.close();
      assert.equal(replay.entries, 0, "nothing left pending in the journal");
    } finally {
      rmSync(copyDir, { recursive: true, force: true });
    }
    console.log(
      `      client attempts ${attempts}, pending at kills [${pendingAtKill.join(", ")}], resumed [${resumedAfterKill.join(", ")}], receiver ${JSON.stringify({ accepted: receiver.stats.accepted, duplicates: receiver.stats.duplicates, faults: receiver.stats.faults["500"] })}`,
    );
  });
});
