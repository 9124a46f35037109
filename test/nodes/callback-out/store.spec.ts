// callback out with a callback store (a real redis-server) in a real Node-RED runtime: the outbox
// is the queue in Redis that every instance of the flow shares, a msg is acknowledged only once
// Redis has it, and while Redis cannot be reached msgs are refused with an error a Catch node gets.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import callbackOut from "../../../nodes/callback-out";
import callbackStore from "../../../nodes/callback-store";
import { StoreOutbox } from "../../../nodes/lib/outbox/store-outbox";
import { samplePayload } from "../../../nodes/lib/shared/payload";
import type { StoreConnection } from "../../../nodes/lib/store/connection";
import { freePort, nodeRedDir } from "../../support/node-red";
import { Receiver } from "../../support/receiver";
import { RedisServer } from "../../support/redis-server";
import { openStore } from "../../support/store";
import { helper } from "../../support/test-helper";

// eslint-disable-next-line @typescript-eslint/no-require-imports -- resolved at run time from the Node-RED under test (NODE_RED_PACKAGE)
const catchNode: unknown = require(require.resolve("@node-red/nodes/core/common/25-catch.js", { paths: [nodeRedDir()] }));

const ENTRIES = "agent-callback:outbox:out:entries";

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe("callback out node with a callback store (real redis-server)", function () {
  const redis = new RedisServer();
  let admin: StoreConnection;
  let userDir: string;
  const delivered: Array<{ statusCode?: unknown; [key: string]: unknown }> = [];
  const caught: string[] = [];
  const statuses: string[] = [];

  async function load(url: string, props: Record<string, unknown> = {}): Promise<void> {
    delivered.length = 0;
    caught.length = 0;
    statuses.length = 0;
    const flow = [
      { id: "f1", type: "tab" },
      { id: "store", type: "agent-callback-store", url: redis.url, prefix: "agent-callback:" },
      {
        id: "out",
        type: "agent-callback-out",
        z: "f1",
        url,
        store: "store",
        retrySchedule: [0.2, 0.2, 0.2, 0.2],
        timeout: 2,
        wires: [["ok"], ["gave"]],
        ...props,
      },
      { id: "ok", type: "helper", z: "f1" },
      { id: "gave", type: "helper", z: "f1" },
      { id: "catcher", type: "catch", z: "f1", scope: null, wires: [["caught"]] },
      { id: "caught", type: "helper", z: "f1" },
    ];
    await helper.load([callbackStore, callbackOut, catchNode], flow);
    helper.getNode("ok").on("input", (msg) => delivered.push(msg));
    helper.getNode("caught").on("input", (msg) => caught.push(String((msg.error as { message?: string }).message)));
    helper.getNode("out").on("call:status", (call) => statuses.push(String((call.args[0] as { text?: string }).text)));
  }

  const send = (id: string): void => helper.getNode("out").receive({ payload: { ...samplePayload(), execution_id: id } });

  before(async () => {
    await redis.start();
    admin = await openStore(redis.url, "agent-callback:");
    userDir = mkdtempSync(path.join(tmpdir(), "cb-out-store-"));
    helper.settings({ userDir });
    await helper.startServer();
  });
  afterEach(async () => {
    await helper.unload();
    await until(() => admin.state === "ready", "the test's own connection is back");
    await admin.sendCommand(["FLUSHALL"]);
  });
  after(async () => {
    await helper.stopServer();
    helper.settings({});
    await admin.close();
    await redis.stop();
    redis.cleanup();
    rmSync(userDir, { recursive: true, force: true });
  });

  it("queues in Redis and keeps the entry there until it is delivered", async () => {
    const receiver = await new Receiver().start();
    receiver.replies = [{ status: 503 }];
    try {
      await load(receiver.url, { retrySchedule: [1] });
      send("exec_out_1");
      await receiver.waitFor((requests) => requests.length === 1);
      // Between the attempts the entry waits in Redis, body and all.
      type Stored = { executionId: string; attempts: number; body: string };
      const read = async (): Promise<Stored[]> =>
        ((await admin.sendCommand(["HVALS", ENTRIES])) as string[]).map((json) => JSON.parse(json) as Stored);
      await until(async () => (await read())[0]?.attempts === 1, "the failed attempt recorded");
      const [stored] = (await read()) as [Stored];
      assert.equal(stored.executionId, "exec_out_1");
      assert.equal(stored.attempts, 1);
      assert.equal(stored.body, receiver.requests[0]?.body);
      await until(() => delivered.length === 1, "delivered on the retry");
      assert.equal(delivered[0]?.statusCode, 200);
      assert.equal(receiver.requests.length, 2);
      await until(async () => Number(await admin.sendCommand(["HLEN", ENTRIES])) === 0, "removed from Redis");
    } finally {
      await receiver.stop();
    }
  });

  it("delivers an entry another instance put in the shared queue", async () => {
    const receiver = await new Receiver().start();
    try {
      await load(receiver.url);
      const other = new StoreOutbox(admin, { queueKey: "agent-callback:outbox:out", leaseMs: 60_000, holder: "other-instance" });
      const body = JSON.stringify({ ...samplePayload(), execution_id: "exec_from_other" });
      await other.add({ id: "x1", executionId: "exec_from_other", body, attempts: 0, dueAt: Date.now(), createdAt: Date.now() });
      await until(() => receiver.requests.length === 1, "delivered by this instance");
      assert.equal(receiver.requests[0]?.body, body);
    } finally {
      await receiver.stop();
    }
  });

  it("stays quiet while idle (told of adds by the store, not polling it) and still delivers what another instance adds", async () => {
    const receiver = await new Receiver().start();
    try {
      await load(receiver.url);
      await until(async () => {
        const reply = await admin.sendCommand(["PUBSUB", "NUMSUB", "agent-callback:outbox:out:wake"]);
        return Number(Array.isArray(reply) ? reply[1] : Object.values(reply as Record<string, unknown>)[0]) === 1;
      }, "the node listens for adds");
      // Commands the node sends Redis over 5 idle seconds (each look for due entries is one script call).
      await admin.sendCommand(["CONFIG", "RESETSTAT"]);
      await new Promise((resolve) => setTimeout(resolve, 5000));
      const stats = String(await admin.sendCommand(["INFO", "commandstats"]));
      const calls = [...stats.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)]
        .filter(([, name]) => name !== "info" && name !== "config|resetstat")
        .map(([, name, count]) => `${name}=${count}`);
      const count = (names: string[]): number =>
        calls.filter((call) => names.includes(call.split("=")[0] as string)).reduce((sum, call) => sum + Number(call.split("=")[1]), 0);
      // One look is one script (with the commands it runs and a count of pending entries); polling
      // every 250 ms made about 20 of them.
      assert.ok(count(["evalsha", "eval"]) <= 2, `commands while idle: ${calls.join(", ")}`);
      assert.ok(count(calls.map((call) => call.split("=")[0] as string)) <= 10, `commands while idle: ${calls.join(", ")}`);
      const other = new StoreOutbox(admin, { queueKey: "agent-callback:outbox:out", leaseMs: 60_000, holder: "other-instance" });
      const body = JSON.stringify({ ...samplePayload(), execution_id: "exec_after_idle" });
      await other.add({ id: "x2", executionId: "exec_after_idle", body, attempts: 0, dueAt: Date.now(), createdAt: Date.now() });
      await until(() => delivered.length === 1, "delivered by this instance");
      assert.equal(receiver.requests[0]?.body, body);
    } finally {
      await receiver.stop();
    }
  });

  it("refuses msgs with an error a Catch node gets while Redis is down, and goes on when it is back", async () => {
    const receiver = await new Receiver().start();
    try {
      await load(receiver.url);
      send("exec_before");
      await until(() => delivered.length === 1, "first delivered");
      await redis.stop();
      try {
        await until(() => statuses.some((s) => s.startsWith("store unreachable")), "status says the store is unreachable");
        send("exec_during");
        await until(() => caught.length === 1, "the msg's error caught");
        assert.match(caught[0] ?? "", /callback store unreachable/);
      } finally {
        await redis.start();
      }
      await until(() => !(statuses.at(-1) ?? "").startsWith("store unreachable"), "status back");
      send("exec_after");
      await until(() => delivered.length === 2, "delivered after the store came back");
      assert.deepEqual(
        receiver.requests.map((r) => r.json.execution_id),
        ["exec_before", "exec_after"],
      );
    } finally {
      await receiver.stop();
    }
  });

  it("refuses msgs past maxQueue pending in the store", async () => {
    const port = await freePort();
    await load(`http://127.0.0.1:${port}/agent-results`, { maxQueue: 2 });
    send("q1");
    send("q2");
    await until(async () => Number(await admin.sendCommand(["HLEN", ENTRIES])) === 2, "two queued");
    send("q3");
    await until(() => caught.length === 1, "third refused");
    assert.match(caught[0] ?? "", /2/);
  });

  it("reports a store config node that is not deployed as the node's configuration error", async () => {
    await load("http://127.0.0.1:9/agent-results", { store: "missing" });
    send("exec_missing");
    await until(() => caught.length === 1, "refused");
    assert.match(caught[0] ?? "", /not deployed/);
  });
});
