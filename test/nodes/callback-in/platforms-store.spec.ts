// callback in with a platform as Sender and a callback store (a real redis-server): the event's
// webhook-id is what is kept in Redis, so a redelivery that another instance accepted is a
// duplicate here, with the same 200 the platform needs.
import assert from "node:assert/strict";
import type { Application } from "express";
import supertest from "supertest";
import callbackIn from "../../../nodes/callback-in";
import callbackStore from "../../../nodes/callback-store";
import type { StoreConnection } from "../../../nodes/lib/store/connection";
import { RedisServer } from "../../support/redis-server";
import { openStore } from "../../support/store";
import { helper } from "../../support/test-helper";
import { assertSdkAccepts, platformEvent, sign, signingSecret } from "../../support/platform-events";

const SECRET = signingSecret();
const PATH = "/anthropic-events";

describe("callback in with Anthropic as Sender and a callback store (real redis-server)", function () {
  this.timeout(60_000);
  const redis = new RedisServer();
  let app: Application;
  let admin: StoreConnection;
  const emitted: string[] = [];

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

  async function post(webhookId: string, sessionId: string): Promise<supertest.Response> {
    const signed = sign(SECRET, platformEvent("anthropic", "session.status_idled", sessionId), { webhookId });
    await assertSdkAccepts("anthropic", SECRET, signed);
    const request = supertest(app).post(PATH);
    for (const [k, v] of Object.entries(signed.headers)) request.set(k, v);
    return request.send(signed.body);
  }

  it("keeps each webhook-id in Redis: a redelivery another instance accepted is answered 200 duplicate and not emitted", async () => {
    const flow = [
      { id: "store", type: "agent-callback-store", url: redis.url, prefix: "agent-callback:" },
      {
        id: "in",
        type: "agent-callback-in",
        url: PATH,
        source: "anthropic",
        store: "store",
        rateLimit: 0,
        wires: [["c"], ["c"], ["c"], ["c"]],
      },
      { id: "c", type: "helper" },
    ];
    await helper.load([(RED: { httpNode: Application }) => (app = RED.httpNode), callbackStore, callbackIn], flow, {
      in: { secret: SECRET },
    });
    helper.getNode("c").on("input", (msg) => emitted.push((msg.payload as { execution_id: string }).execution_id));
    assert.deepEqual((await post("msg_store_1", "sesn_1")).body, { received: true });
    const until = Date.now() + 15_000;
    while ((await admin.sendCommand(["GET", "agent-callback:dedupe:in:msg_store_1"])) !== "done") {
      if (Date.now() > until) throw new Error("the webhook-id was not kept as emitted");
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    // What another instance running the same flow writes when it accepts the delivery msg_store_2.
    await admin.sendCommand(["SET", "agent-callback:dedupe:in:msg_store_2", "done", "PX", "60000"]);
    assert.deepEqual((await post("msg_store_2", "sesn_2")).body, { received: true, duplicate: true });
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(emitted, ["sesn_1"]);
  });
});
