// callback out across restarts, node removal and a crash (SIGKILL), in a real Node-RED child
// process started from its CLI: pending callbacks are kept on disk and every one arrives.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { NodeRedProcess, freePort } from "../../support/node-red";
import { Receiver } from "../../support/receiver";

const TAB = { id: "tab1", type: "tab", label: "callback out" };

/** http in /feed -> callback out; the feed is answered when callback out calls done() (Complete node). */
function flows(receiverUrl: string, outProps: Record<string, unknown>): unknown[] {
  return [
    TAB,
    {
      id: "feed",
      type: "http in",
      z: "tab1",
      url: "/feed",
      method: "post",
      upload: false,
      swaggerDoc: "",
      x: 100,
      y: 100,
      wires: [["out"]],
    },
    {
      id: "out",
      type: "agent-callback-out",
      z: "tab1",
      url: receiverUrl,
      agentLoopId: "loop_restart",
      agentLoopName: "Restart test",
      x: 300,
      y: 100,
      wires: [[], []],
      ...outProps,
    },
    { id: "complete", type: "complete", z: "tab1", scope: ["out"], uncaught: false, x: 100, y: 200, wires: [["ok"]] },
    { id: "ok", type: "http response", z: "tab1", statusCode: "200", headers: {}, x: 300, y: 200, wires: [] },
    { id: "failed", type: "catch", z: "tab1", scope: ["out"], uncaught: false, x: 100, y: 300, wires: [["fail"]] },
    { id: "fail", type: "http response", z: "tab1", statusCode: "500", headers: {}, x: 300, y: 300, wires: [] },
  ];
}

function journalFile(nodeRed: NodeRedProcess): string {
  return path.join(nodeRed.userDir, "agent-callback-outbox", "out.jsonl");
}

/** Pending entries in the journal, read without touching it (the running node owns the file). */
function pendingIds(nodeRed: NodeRedProcess): Set<string> {
  const live = new Map<string, string>();
  const file = journalFile(nodeRed);
  if (!existsSync(file)) return new Set();
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (line.trim() === "") continue;
    let record: { op?: string; id?: string; entry?: { id: string; executionId: string } };
    try {
      record = JSON.parse(line) as typeof record;
    } catch {
      continue; // a line being written right now
    }
    if (record.op === "add" && record.entry) live.set(record.entry.id, record.entry.executionId);
    if (record.op === "done" && record.id) live.delete(record.id);
  }
  return new Set(live.values());
}

async function until(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function feed(nodeRed: NodeRedProcess, executionId: string): Promise<number> {
  const res = await fetch(`${nodeRed.url}/feed`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ execution_id: executionId, status: "completed", result: { output: `output of ${executionId}` } }),
  });
  await res.text();
  return res.status;
}

async function deploy(nodeRed: NodeRedProcess, flowList: unknown[]): Promise<void> {
  const res = await fetch(`${nodeRed.url}/flows`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "Node-RED-Deployment-Type": "full" },
    body: JSON.stringify(flowList),
  });
  assert.equal(res.status, 204, await res.text());
}

/** How many times each execution_id was answered 2xx by the receiver. */
function deliveredCounts(receiver: Receiver): Map<string, number> {
  const counts = new Map<string, number>();
  for (const request of receiver.requests) {
    if (request.answered === undefined || request.answered >= 300) continue;
    const id = String(request.json.execution_id);
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

describe("callback out across restarts (Node-RED child process)", function () {
  this.timeout(180_000);
  let nodeRed: NodeRedProcess | undefined;
  let receiver: Receiver | undefined;

  afterEach(async () => {
    await nodeRed?.kill();
    nodeRed?.cleanup();
    nodeRed = undefined;
    await receiver?.stop();
    receiver = undefined;
  });

  it("keeps callbacks queued while the receiver is down through node removal and a restart, then delivers each once", async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/agent-results`;
    // Short waits so the pending callbacks are due again soon after each restart.
    const original = flows(url, { retrySchedule: Array.from({ length: 60 }, () => 0.5) });
    nodeRed = new NodeRedProcess({ flows: original });
    await nodeRed.start();

    const ids = Array.from({ length: 10 }, (_, i) => `exec_restart_${i}`);
    const statuses = await Promise.all(ids.map((id) => feed(nodeRed!, id)));
    assert.deepEqual(
      statuses,
      ids.map(() => 200),
      "every msg acknowledged only once it is on disk",
    );
    assert.deepEqual([...pendingIds(nodeRed)].sort(), [...ids].sort());

    // Remove the node: its callbacks stay on disk and the log says so.
    await deploy(nodeRed, [TAB]);
    await nodeRed.waitFor(/node removed with 10 pending callback\(s\): they are kept in/);
    assert.equal(pendingIds(nodeRed).size, 10);

    // Deploy it again (same id): it resumes its journal; the receiver is still down.
    await deploy(nodeRed, original);
    await nodeRed.waitFor(/resuming 10 pending callback\(s\)/);

    await nodeRed.stop();
    assert.match(nodeRed.log, /10 pending callback\(s\) kept in/);
    assert.equal(pendingIds(nodeRed).size, 10);

    receiver = await new Receiver().start(port);
    await nodeRed.start();
    await receiver.waitFor((requests) => ids.every((id) => requests.some((r) => r.json.execution_id === id)), 60_000, "all callbacks");
    await until(() => pendingIds(nodeRed!).size === 0, "an empty journal");
    const counts = deliveredCounts(receiver);
    for (const id of ids) assert.equal(counts.get(id), 1, `${id} delivered ${counts.get(id) ?? 0} times`);
    assert.equal(receiver.requests.length, ids.length, "nothing sent twice");
    // The body survived the restarts byte for byte.
    const body = receiver.requests.find((r) => r.json.execution_id === "exec_restart_3")!.json;
    assert.deepEqual(body.result, { output: "output of exec_restart_3" });
    assert.equal(body.agent_loop_id, "loop_restart");
  });

  it("loses nothing when Node-RED is killed with SIGKILL mid-delivery", async () => {
    receiver = await new Receiver().start();
    receiver.defaultReply = "hang"; // deliveries stay in flight until the crash
    nodeRed = new NodeRedProcess({ flows: flows(receiver.url, { timeout: 60, concurrency: 4, retrySchedule: [0.5, 0.5, 0.5, 0.5] }) });
    await nodeRed.start();

    const ids = Array.from({ length: 40 }, (_, i) => `exec_kill_${i}`);
    const acknowledged: string[] = [];
    const feeds = ids.map((id) =>
      feed(nodeRed!, id).then(
        (status) => {
          if (status === 200) acknowledged.push(id);
        },
        () => undefined, // cut off by the crash: not acknowledged, so not promised
      ),
    );
    await receiver.count(4);
    await until(() => acknowledged.length >= 10, "some acknowledged msgs");
    await nodeRed.kill();
    await Promise.all(feeds);
    const promised = [...acknowledged];
    assert.ok(promised.length >= 10);

    receiver.defaultReply = { status: 200, headers: { "Content-Type": "application/json" }, body: '{"received":true}' };
    await nodeRed.start();
    await receiver.waitFor(
      () => promised.every((id) => (deliveredCounts(receiver!).get(id) ?? 0) >= 1),
      60_000,
      "every acknowledged callback delivered",
    );
    await until(() => pendingIds(nodeRed!).size === 0, "an empty journal");
    for (const [id, count] of deliveredCounts(receiver)) assert.equal(count, 1, `${id} delivered ${count} times`);
    // The same execution_id and bytes on the attempt before the crash and after it.
    for (const id of promised) {
      const bodies: Set<string> = new Set(receiver!.requests.filter((r) => r.json.execution_id === id).map((r) => r.body));
      assert.equal(bodies.size, 1, `${id} was sent with different bodies`);
    }
  });
});
