// Issue 22's proof in a real Node-RED child process against a real receiver that fails, then
// recovers: with 200 waiting callbacks, pauseAfter 5 and pauseFor 2, the receiver gets at most one
// attempt per 2 s while failing, none of the 200 gives up during a 30 s outage with retrySchedule
// [1, 1, 1], all 200 are delivered once after it recovers, and the metrics gauge reads 1 while
// paused; maxRate 20 spreads 100 deliveries over at least 4.5 s; a 503 with Retry-After holds every
// callback to that receiver, not only the one answered.
import assert from "node:assert/strict";
import { NodeRedProcess } from "../support/node-red";
import { Receiver, type Received } from "../support/receiver";
import { deployAs } from "../support/admin-auth";
import { parseExposition } from "../support/prometheus";
import { assertRetryAfterHoldsReceiver } from "./support/receiver-hold";

const FAILING = { status: 503, body: "down" };

function flows(receiverUrl: string, out: Record<string, unknown>): unknown[] {
  return [
    { id: "tab", type: "tab", label: "pause" },
    { id: "feed", type: "http in", z: "tab", url: "/feed", method: "post", upload: false, swaggerDoc: "", wires: [["out", "ack"]] },
    { id: "ack", type: "http response", z: "tab", statusCode: "200", headers: {}, wires: [] },
    {
      id: "out",
      type: "agent-callback-out",
      z: "tab",
      name: "to receiver",
      url: receiverUrl,
      agentLoopId: "loop_pause",
      credentials: { secret: "pause-secret-5c1d" },
      wires: [[], []],
      ...out,
    },
  ];
}

const idOf = (request: Received): string => String(request.json.execution_id);

describe("receiver pause and pace (Node-RED child process, real receiver)", function () {
  this.timeout(240_000);
  let nodeRed: NodeRedProcess;
  let receiver: Receiver;

  const feed = async (count: number, from = 0): Promise<void> => {
    const post = async (i: number): Promise<void> => {
      const body = JSON.stringify({ execution_id: `exec_${i}`, status: "completed", result: { output: `output ${i}` } });
      let res = await fetch(`${nodeRed.url}/feed`, { method: "POST", headers: { "Content-Type": "application/json" }, body });
      // Right after a deploy the http in route may not be there yet (404: nothing was taken).
      for (let tries = 0; res.status === 404 && tries < 50; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        res = await fetch(`${nodeRed.url}/feed`, { method: "POST", headers: { "Content-Type": "application/json" }, body });
      }
      assert.equal(res.status, 200, await res.text());
    };
    // Ten at a time: all of them are waiting within a moment.
    for (let i = 0; i < count; i += 10) await Promise.all(Array.from({ length: Math.min(10, count - i) }, (_, k) => post(from + i + k)));
  };
  const metric = async (name: string, labels: Record<string, string> = {}): Promise<number | undefined> => {
    const text = await (await fetch(`${nodeRed.url}/agent-callback/metrics`)).text();
    return parseExposition(text).find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
  };

  beforeEach(async () => {
    receiver = await new Receiver().start();
    nodeRed = new NodeRedProcess();
    await nodeRed.start();
  });
  afterEach(async () => {
    await nodeRed.stop();
    await receiver.stop();
  });

  it("pauses a failing receiver, tests it once per pauseFor, gives none up, and delivers all 200 once after it recovers", async () => {
    await deployAs(nodeRed.url, "", flows(receiver.url, { pauseAfter: 5, pauseFor: 2, retrySchedule: [1, 1, 1] }));
    receiver.defaultReply = FAILING;
    const outageStart = Date.now();
    await feed(200);
    await receiver.waitFor((requests) => requests.length >= 5, 20_000, "the first failed attempts");
    // Paused: the gauge says so (polled: the pause follows the 5th failure's reply).
    for (let i = 0; i < 50 && (await metric("agent_callback_out_paused")) !== 1; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(await metric("agent_callback_out_paused"), 1);
    // Every attempt from here on is a test attempt (those in flight at the pause had already arrived).
    const pausedAt = Date.now();
    assert.match(nodeRed.log, /paused after 5 failed attempts in a row/);
    // The agent callbacks tab's health line reads the pause from the node's view.
    const view = (await (await fetch(`${nodeRed.url}/agent-callback/out/out`)).json()) as { health: { paused?: { since: number } } };
    assert.ok(view.health.paused && view.health.paused.since >= outageStart, JSON.stringify(view.health));
    await new Promise((resolve) => setTimeout(resolve, 30_000 - (Date.now() - outageStart)));
    const failing = [...receiver.requests];
    receiver.defaultReply = { status: 200, body: "ok" };

    const tests = failing.filter((r) => (r as Received).at > pausedAt);
    for (let i = 1; i < tests.length; i++) {
      const gap = (tests[i] as Received).at - (tests[i - 1] as Received).at;
      assert.ok(gap >= 1900, `test attempt ${i + 1} came ${gap} ms after the one before, while paused (pauseFor 2 s)`);
    }
    // At most 5 failures and what was in flight (concurrency 8) before the pause, then one test per 2 s.
    assert.ok(failing.length <= 12 + 16, `${failing.length} attempts during a 30 s outage`);
    assert.ok(tests.length >= 8, `test attempts went on during the outage (${tests.length} in ${Date.now() - pausedAt} ms)`);

    await receiver.waitFor(
      (requests) => new Set(requests.filter((r) => r.answered === 200).map(idOf)).size >= 200,
      60_000,
      "200 delivered",
    );
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const delivered = receiver.requests.filter((r) => r.answered === 200).map(idOf);
    assert.equal(delivered.length, 200, "each callback delivered exactly once");
    assert.equal(new Set(delivered).size, 200);
    assert.equal((await metric("agent_callback_out_attempts_total", { result: "gave_up" })) ?? 0, 0, "none gave up");
    assert.equal(await metric("agent_callback_out_paused"), 0);
    assert.match(nodeRed.log, /answers again/);
  });

  it("maxRate 20 spreads 100 deliveries over at least 4.5 s", async () => {
    await deployAs(nodeRed.url, "", flows(receiver.url, { maxRate: 20, concurrency: 8 }));
    await feed(100);
    await receiver.waitFor((requests) => requests.length >= 100, 60_000, "100 deliveries");
    const times = receiver.requests.map((r) => r.at);
    const span = (times[99] as number) - (times[0] as number);
    // Never more than 20 in a second (arrival times jitter a little, so 20 gaps take at least 850 ms).
    for (let i = 20; i < times.length; i++) {
      const window = (times[i] as number) - (times[i - 20] as number);
      assert.ok(window >= 850, `deliveries ${i - 19} to ${i + 1} within ${window} ms (maxRate 20)`);
    }
    assert.ok(span >= 4500, `100 deliveries within ${span} ms at maxRate 20`);
    assert.equal(new Set(receiver.requests.map(idOf)).size, 100);
  });

  it("a 503 with Retry-After: 3 holds every callback to that receiver, not only the one answered", async () => {
    await deployAs(nodeRed.url, "", flows(receiver.url, { concurrency: 2, retrySchedule: [0.2, 0.2] }));
    await assertRetryAfterHoldsReceiver(receiver, feed);
  });
});
