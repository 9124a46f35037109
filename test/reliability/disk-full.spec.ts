// callback out in a real Node-RED whose file writes are limited (prlimit --fsize, as a full disk
// looks to a process): 2,000 callbacks fed while the journal hits the limit are each either
// acknowledged or reported to a Catch node; once the limit is lifted the node takes msgs again
// without a redeploy; after a restart with room every acknowledged callback is delivered exactly
// once with its exact bytes, and the journal never holds a torn or shifted record.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Pool } from "undici";
import { NodeRedProcess } from "../support/node-red";
import { Receiver } from "../support/receiver";
import { Outbox } from "../../nodes/lib/outbox/outbox";
import { journalFileName, readRecord } from "../../nodes/lib/outbox/records";
import { callbackOfSize } from "./support/payloads";
import { deployFlows, enqueueFlow, probe } from "./support/flows";
import { waitUntil } from "../../bench/lib/proc";

const COUNT = 2000;
const AFTER = 100;
/** Room for a few hundred 1 KB callbacks in the journal (and for Node-RED's own small files). */
const FILE_SIZE_LIMIT = 500_000;

interface Fed {
  status: number;
  error?: string;
}

async function feed(pool: Pool, bodies: Map<string, string>, ids: string[]): Promise<Map<string, Fed>> {
  const results = new Map<string, Fed>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < ids.length) {
      const id = ids[next++] as string;
      const res = await pool.request({
        method: "POST",
        path: "/__enqueue",
        headers: { "content-type": "application/json" },
        body: bodies.get(id),
      });
      const reply = (await res.body.json()) as { error?: string };
      results.set(id, res.statusCode === 200 ? { status: 200 } : { status: res.statusCode, error: String(reply.error) });
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return results;
}

describe("reliability: callback out on a full disk (prlimit --fsize)", function () {
  this.timeout(300_000);
  let receiver: Receiver;
  let nodeRed: NodeRedProcess;

  before(async function () {
    try {
      execFileSync("prlimit", ["--version"], { stdio: "ignore" });
    } catch {
      this.skip();
    }
    receiver = await new Receiver().start();
    nodeRed = new NodeRedProcess({ launcher: ["prlimit", `--fsize=${FILE_SIZE_LIMIT}:unlimited`, "--"] });
    await nodeRed.start();
  });

  after(async () => {
    await nodeRed?.kill();
    nodeRed?.cleanup();
    await receiver?.stop();
  });

  it("acknowledges or reports each msg, takes msgs again once there is room, and delivers each acknowledged one exactly once", async () => {
    // The receiver hangs while the disk is full, so callbacks stay in the journal.
    receiver.defaultReply = "hang";
    await deployFlows(nodeRed.url, enqueueFlow(receiver.url, { concurrency: 1, timeout: 120, maxQueue: 10_000 }), () => nodeRed.log);
    const journal = path.join(nodeRed.userDir, "agent-callback-outbox", journalFileName("cb-out"));
    const bodies = new Map<string, string>();
    for (let i = 0; i < COUNT + AFTER; i++) bodies.set(`exec_${i}`, JSON.stringify(callbackOfSize(`exec_${i}`, 1024, i)));
    const ids = [...bodies.keys()];

    const pool = new Pool(nodeRed.url, { connections: 8 });
    const full = await feed(pool, bodies, ids.slice(0, COUNT));
    const acked = new Set([...full].filter(([, r]) => r.status === 200).map(([id]) => id));
    const refused = [...full].filter(([, r]) => r.status !== 200);
    assert.equal(full.size, COUNT, "every msg was answered: acknowledged or caught");
    assert.ok(acked.size > 0 && refused.length > 0, `${acked.size} acknowledged, ${refused.length} refused`);
    for (const [id, r] of refused) assert.match(r.error ?? "", /^(Error: )?outbox: disk full/, `${id}: ${r.error}`);
    // Logged when writing stops and when it works again, not per msg: stops and resumes alternate.
    // Near the edge a small group may still fit, and a rewrite of the journal (tried after a failed
    // write) can make room for one more late in the feed, so the last line may say either.
    const changes = (): string[] => nodeRed.log.match(/outbox: disk full, msg not queued|outbox: writing to .* again/g) ?? [];
    const alternate = (lines: string[]): boolean => lines.every((line, i) => /disk full/.test(line) === (i % 2 === 0));
    const stops = changes().filter((line) => /disk full/.test(line)).length;
    assert.ok(
      alternate(changes()) && stops >= 1 && stops < 10,
      `${stops} stops for ${refused.length} refused msgs: ${changes().join(" / ")}`,
    );
    // The status (shown at most 4 times a second) says what the last line says.
    const stillFull = /disk full/.test(changes().at(-1) ?? "");
    await waitUntil(
      async () => /^outbox: disk full/.test((await probe(nodeRed.url)).status?.text ?? "") === stillFull,
      5_000,
      `the status to say ${stillFull ? "disk full" : "msgs are taken"}`,
      50,
    );

    // Room again (the limit lifted in the running process): msgs are taken again without a redeploy.
    execFileSync("prlimit", ["--pid", String(nodeRed.pid), "--fsize=unlimited:unlimited"]);
    const later = await feed(pool, bodies, ids.slice(COUNT));
    await pool.close();
    for (const [id, r] of later) {
      assert.equal(r.status, 200, `${id} after the limit was lifted: ${r.error}`);
      acked.add(id);
    }
    assert.ok(alternate(changes()) && changes().length % 2 === 0, `the node said it writes again: ${changes().join(" / ")}`);

    await nodeRed.stop();
    const lines = readFileSync(journal, "utf8").split("\n");
    assert.equal(lines.pop(), "", "the journal ends on a whole record");
    for (const line of lines) assert.ok(readRecord(line), `a whole record: ${line.slice(0, 60)}`);
    const copyDir = mkdtempSync(path.join(tmpdir(), "outbox-copy-"));
    try {
      copyFileSync(journal, path.join(copyDir, "j.jsonl"));
      const { outbox, replay } = await Outbox.open(path.join(copyDir, "j.jsonl"));
      assert.deepEqual(replay, { entries: acked.size, tornTail: false, unreadableLines: 0 });
      assert.deepEqual(new Set(outbox.entries().map((e) => e.executionId)), acked);
      await outbox.close();
    } finally {
      rmSync(copyDir, { recursive: true, force: true });
    }

    // A restart with room and a receiver that answers.
    receiver.defaultReply = { status: 200, headers: { "Content-Type": "application/json" }, body: '{"received":true}' };
    nodeRed.launcher = [];
    await nodeRed.start();
    const answered = (): string[] => receiver.requests.filter((r) => r.answered === 200).map((r) => String(r.json.execution_id));
    await waitUntil(() => new Set(answered()).size >= acked.size, 120_000, `${acked.size} callbacks delivered`, 20);
    await waitUntil(async () => (await probe(nodeRed.url)).status?.text === "delivered 200", 60_000, "callback out to settle");

    const delivered = answered();
    assert.equal(delivered.length, acked.size, "each delivered once");
    assert.deepEqual(new Set(delivered), acked, "exactly the acknowledged callbacks");
    for (const request of receiver.requests.filter((r) => r.answered === 200)) {
      assert.equal(request.body, bodies.get(String(request.json.execution_id)), "the exact bytes");
    }
    const strangers = receiver.requests.filter((r) => !acked.has(String(r.json.execution_id)));
    assert.deepEqual(strangers, [], "no refused callback was ever sent");
    console.log(
      `      acknowledged ${acked.size - AFTER} of ${COUNT} while full, refused ${refused.length}; ${AFTER} more after the limit was lifted`,
    );
  });
});
