// callback in under the attacks of issue 11, in a real Node-RED (editor and node routes at "/"):
// a flood of wrong secrets cannot lock out the genuine sender, and crowds of slow senders declaring
// 1 MiB bodies cannot make Node-RED buffer them.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { NodeRedProcess } from "../support/node-red";
import { rawPost, type RawReply } from "../support/raw-client";
import { callbackInFlow, deployFlows, type FlowNode } from "./support/flows";
import { rssOf, waitUntil } from "../../bench/lib/proc";
import { samplePayload } from "../../nodes/lib/shared/payload";

const SECRET = "hostile-secret-0123456789";
const ATTACKER = "127.0.0.1";
const SENDER = "127.0.0.2";
/** A third address for the slow senders: the first attacker is over its limit of refused requests by then. */
const SLOW_SENDERS = "127.0.0.3";
const MIB = 1024 * 1024;
const CAP_MIB = 16;

const body = (id: string): string => JSON.stringify({ ...samplePayload(), execution_id: id });
const json = { "Content-Type": "application/json" };

/** Runs `tasks` with at most `width` at once. */
async function pool<T>(tasks: Array<() => Promise<T>>, width: number): Promise<T[]> {
  const results: T[] = new Array<T>(tasks.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await (tasks[i] as () => Promise<T>)();
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  return results;
}

/** A reply, or the error a reset connection gave (a server may close before reading what we send). */
function settle(promise: Promise<RawReply>): Promise<RawReply | Error> {
  return promise.catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
}

describe("callback in under attack (issue 11)", function () {
  this.timeout(300_000);
  const red = new NodeRedProcess();
  let emitted: () => Promise<Array<[string, string, string]>>;

  before(async () => {
    await red.start();
    const flows: FlowNode[] = callbackInFlow("/hostile", SECRET, { rateLimit: 600, record: true }).map((n) =>
      n.id === "cb-in" ? { ...n, maxPending: CAP_MIB * 1024 } : n,
    );
    // A second endpoint in signature mode for the slow senders with valid-looking signatures.
    const signed = flows.find((n) => n.id === "cb-in") as FlowNode;
    flows.push({ ...signed, id: "cb-sig", url: "/hostile-signed", verify: "signature", y: 400 });
    await deployFlows(red.url, flows, () => red.log);
    emitted = async () => (await (await fetch(`${red.url}/__emitted`)).json()) as Array<[string, string, string]>;
  });
  after(async () => {
    await red.stop();
    red.cleanup();
  });

  it("5,000 wrong-secret requests from one client interleaved with 600 genuine ones from another: all 600 get 200, each emitted once", async () => {
    const attack = pool(
      Array.from(
        { length: 5000 },
        (_, i) => () =>
          settle(
            rawPost({
              url: `${red.url}/hostile`,
              headers: { ...json, "X-Webhook-Secret": `wrong-${i}` },
              body: body(`attack-${i}`),
              localAddress: ATTACKER,
            }),
          ),
      ),
      32,
    );
    const genuine = pool(
      Array.from(
        { length: 600 },
        (_, i) => () =>
          rawPost({
            url: `${red.url}/hostile`,
            headers: { ...json, "X-Webhook-Secret": SECRET },
            body: body(`genuine-${i}`),
            localAddress: SENDER,
          }),
      ),
      8,
    );
    const [attacked, answered] = await Promise.all([attack, genuine]);
    const statuses = answered.map((r) => r.status);
    assert.deepEqual(
      statuses.filter((s) => s !== 200),
      [],
    );
    const attackStatuses = new Set(attacked.map((r) => (r instanceof Error ? "error" : r.status)));
    assert.ok(
      [...attackStatuses].every((s) => s === 401 || s === 429),
      [...attackStatuses].join(","),
    );
    await waitUntil(async () => (await emitted()).length >= 600, 60_000, "600 emitted");
    const ids = (await emitted()).map(([, id]) => id);
    assert.equal(ids.length, 600);
    assert.equal(new Set(ids).size, 600);
    assert.ok(ids.every((id) => id.startsWith("genuine-")));
  });

  it("300 slow clients declaring 1 MiB with a wrong secret: all answered 401 within a second, RSS grows by less than 50 MiB", async () => {
    const before = rssOf(red.pid).rss;
    // Started 2 ms apart, so that each answer time is the server's, not a queue of 300 at one instant.
    const pending: Array<Promise<RawReply>> = [];
    for (let i = 0; i < 300; i++) {
      pending.push(
        rawPost({
          url: `${red.url}/hostile`,
          headers: { ...json, "X-Webhook-Secret": `slow-wrong-${i}`, "Content-Length": String(MIB) },
          body: "x".repeat(1024),
          hold: true,
          localAddress: `127.0.1.${(i % 250) + 1}`,
        }),
      );
      await new Promise((r) => setTimeout(r, 2));
    }
    const replies = await Promise.all(pending);
    const after = rssOf(red.pid).rss;
    assert.deepEqual([...new Set(replies.map((r) => r.status))], [401]);
    // From each connection's start: the server's answer, not the test client's time to open 300 connections.
    const slowest = Math.max(...replies.map((r) => r.answeredMs));
    assert.ok(slowest < 1000, `slowest 401 after ${slowest} ms`);
    console.log(`      slowest 401 ${slowest} ms after connecting; RSS ${before.toFixed(1)} -> ${after.toFixed(1)} MiB`);
    assert.ok(after - before < 50, `RSS ${before.toFixed(1)} -> ${after.toFixed(1)} MiB`);
  });

  it("300 slow clients declaring 1 MiB with valid-looking signatures: RSS stays under the cap + 50 MiB and a genuine callback is accepted meanwhile", async () => {
    const before = rssOf(red.pid).rss;
    const looksSigned = { ...json, "X-Signature": "sha256=" + "c".repeat(64), "Content-Length": String(MIB) };
    // Each sends most of its body at once, then holds the rest back.
    const most = Buffer.alloc(MIB - 1024, "x");
    const slow = Array.from({ length: 300 }, () =>
      settle(rawPost({ url: `${red.url}/hostile-signed`, headers: looksSigned, body: most, hold: true, localAddress: SLOW_SENDERS })),
    );
    let settled = 0;
    for (const p of slow) void p.then(() => settled++);
    await waitUntil(() => settled >= 300 - CAP_MIB, 60_000, "the refused slow senders answered");
    const answered = await Promise.all(slow.map((p) => Promise.race([p, new Promise<"open">((r) => setTimeout(() => r("open"), 100))])));
    const peak = rssOf(red.pid).rss;
    const busy = answered.filter((r) => r !== "open" && !(r instanceof Error) && r.status === 503).length;
    const open = answered.filter((r) => r === "open").length;
    assert.ok(busy >= 300 - CAP_MIB, `${busy} answered 503, ${open} still being read`);

    const raw = body("genuine-during-slow");
    const signature = "sha256=" + createHmac("sha256", SECRET).update(raw).digest("hex");
    const genuine = await rawPost({
      url: `${red.url}/hostile-signed`,
      headers: { ...json, "X-Signature": signature },
      body: raw,
      localAddress: SENDER,
    });
    assert.equal(genuine.status, 200, genuine.text);
    await waitUntil(async () => (await emitted()).some(([, id]) => id === "genuine-during-slow"), 30_000, "the genuine callback emitted");
    console.log(`      ${busy} answered 503, ${open} being read; RSS ${before.toFixed(1)} -> ${peak.toFixed(1)} MiB`);
    assert.ok(peak - before < CAP_MIB + 50, `RSS ${before.toFixed(1)} -> ${peak.toFixed(1)} MiB`);
  });
});
