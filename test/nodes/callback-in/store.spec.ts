// callback in with a callback store (a real redis-server) in a real Node-RED runtime
// (node-red-node-test-helper): dedupe and rate limit live in Redis, where another instance sees
// them, and while Redis cannot be reached requests are answered 503 with nothing emitted.
import assert from "node:assert/strict";
import type { Application } from "express";
import supertest from "supertest";
import callbackIn from "../../../nodes/callback-in";
import callbackStore from "../../../nodes/callback-store";
import { samplePayload } from "../../../nodes/lib/shared/payload";
import type { StoreConnection } from "../../../nodes/lib/store/connection";
import { nodeRedMain } from "../../support/node-red";
import { RedisServer } from "../../support/redis-server";
import { openStore } from "../../support/store";

interface HelperNode {
  on(event: "input", handler: (msg: { payload?: unknown }) => void): void;
  on(event: "call:status", handler: (call: { args: unknown[] }) => void): void;
}
interface TestHelper {
  init(nodeRedPath: string): void;
  load(nodes: unknown[], flow: unknown[], credentials?: Record<string, unknown>): Promise<void>;
  unload(): Promise<void>;
  getNode(id: string): HelperNode;
  startServer(): Promise<void>;
  stopServer(): Promise<void>;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS module without type declarations, typed by the cast
const helper = require("node-red-node-test-helper") as TestHelper;
helper.init(nodeRedMain());

const SECRET = "s3cret-value";
const PATH = "/agent-results";

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe("callback in node with a callback store (real redis-server)", function () {
  const redis = new RedisServer();
  let app: Application;
  let admin: StoreConnection;
  const emitted: string[] = [];
  const statuses: string[] = [];

  async function load(props: Record<string, unknown> = {}, storeId = "store"): Promise<void> {
    emitted.length = 0;
    statuses.length = 0;
    const flow = [
      { id: "store", type: "agent-callback-store", url: redis.url, prefix: "agent-callback:" },
      {
        id: "in",
        type: "agent-callback-in",
        url: PATH,
        verify: "secret",
        store: storeId,
        rateLimit: 0,
        wires: [["c"], ["c"], ["c"]],
        ...props,
      },
      { id: "c", type: "helper" },
    ];
    await helper.load([(RED: { httpNode: Application }) => (app = RED.httpNode), callbackStore, callbackIn], flow, {
      in: { secret: SECRET },
    });
    helper.getNode("c").on("input", (msg) => emitted.push((msg.payload as { execution_id: string }).execution_id));
    helper.getNode("in").on("call:status", (call) => statuses.push(String((call.args[0] as { text?: string }).text)));
  }

  const post = (id: string): supertest.Test =>
    supertest(app)
      .post(PATH)
      .set("Content-Type", "application/json")
      .set("X-Webhook-Secret", SECRET)
      .send(JSON.stringify({ ...samplePayload(), execution_id: id }));

  before(async () => {
    await redis.start();
    admin = await openStore(redis.url, "agent-callback:");
    await helper.startServer();
  });
  afterEach(() => helper.unload());
  after(async () => {
    await helper.stopServer();
    await admin.close();
    await redis.stop();
    redis.cleanup();
  });

  it("keeps each execution_id in Redis: an id another instance accepted is a duplicate here", async () => {
    await load();
    const first = await post("exec_store_1");
    assert.equal(first.status, 200, first.text);
    assert.deepEqual(first.body, { received: true });
    await until(async () => (await admin.sendCommand(["GET", "agent-callback:dedupe:in:exec_store_1"])) === "done", "kept as emitted");
    const ttl = Number(await admin.sendCommand(["PTTL", "agent-callback:dedupe:in:exec_store_1"]));
    assert.ok(ttl > 86_000_000 && ttl <= 86_400_000, `ttl ${ttl}`);
    // What another instance running the same flow writes when it accepts exec_store_2.
    await admin.sendCommand(["SET", "agent-callback:dedupe:in:exec_store_2", "done", "PX", "60000"]);
    const other = await post("exec_store_2");
    assert.equal(other.status, 200);
    assert.deepEqual(other.body, { received: true, duplicate: true });
    await until(() => emitted.length === 1, "one emitted");
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(emitted, ["exec_store_1"]);
  });

  it("draws the rate limit from the bucket in Redis that all instances share", async () => {
    await load({ rateLimit: 3, id: "in" });
    // Another instance took two of the three tokens just now.
    const time = (await admin.sendCommand(["TIME"])) as [string, string];
    const now = Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000);
    await admin.sendCommand(["HSET", "agent-callback:rate:in", "tokens", "1", "at", String(now)]);
    assert.equal((await post("exec_rate_1")).status, 200);
    const limited = await post("exec_rate_2");
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers["retry-after"]) >= 1);
  });

  it("answers 503 with Retry-After while Redis is down, emits nothing, says why in the status; recovers", async () => {
    await load();
    assert.equal((await post("exec_down_0")).status, 200);
    await redis.stop();
    try {
      const refused = await post("exec_down_1");
      assert.equal(refused.status, 503, refused.text);
      assert.equal(refused.headers["retry-after"], "5");
      assert.match(String((refused.body as { error: string }).error), /retry after 5 s/);
      await until(() => statuses.some((s) => s.startsWith("store unreachable")), "status says the store is unreachable");
    } finally {
      await redis.start();
    }
    await until(async () => (await post("exec_down_1")).status === 200, "accepted once Redis is back");
    await until(() => emitted.length === 2, "two emitted");
    assert.deepEqual(emitted, ["exec_down_0", "exec_down_1"]);
    await until(() => !(statuses.at(-1) ?? "").startsWith("store unreachable"), "status back to counts");
  });

  it("answers 503 with Retry-After while another instance is processing the same execution_id", async () => {
    await load();
    await admin.sendCommand(["SET", "agent-callback:dedupe:in:exec_busy", "pending", "PX", "20000"]);
    const busy = await post("exec_busy");
    assert.equal(busy.status, 503, busy.text);
    assert.ok(Number(busy.headers["retry-after"]) >= 19, String(busy.headers["retry-after"]));
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(emitted, []);
  });

  it("answers 503 when its store config node is not deployed (nothing unchecked is emitted)", async () => {
    await load({}, "missing-store");
    const refused = await post("exec_missing");
    assert.equal(refused.status, 503);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(emitted, []);
    assert.match(statuses.at(-1) ?? "", /store unreachable/);
  });
});
