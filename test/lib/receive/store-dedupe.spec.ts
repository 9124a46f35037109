import assert from "node:assert/strict";
import { StoreDedupe } from "../../../nodes/lib/receive/store-dedupe";
import { StoreUnavailableError, type StoreConnection } from "../../../nodes/lib/store/connection";
import { RedisServer } from "../../support/redis-server";
import { openStore } from "../../support/store";

describe("lib/receive/store-dedupe (real redis-server)", () => {
  const redis = new RedisServer();
  let a: StoreConnection;
  let b: StoreConnection;
  before(async () => {
    await redis.start();
    a = await openStore(redis.url, "d:");
    b = await openStore(redis.url, "d:");
  });
  after(async () => {
    await a.close();
    await b.close();
    await redis.stop();
    redis.cleanup();
  });

  it("reports a repeated id as a duplicate, across two connections (two instances)", async () => {
    const first = new StoreDedupe(a, "d:node1:", 60_000);
    const second = new StoreDedupe(b, "d:node1:", 60_000);
    assert.equal(await first.checkAndRemember("exec_1"), false);
    assert.equal(await second.checkAndRemember("exec_1"), true);
    assert.equal(await first.checkAndRemember("exec_1"), true);
  });

  it("keeps each node's ids apart", async () => {
    assert.equal(await new StoreDedupe(a, "d:nodeA:", 60_000).checkAndRemember("exec_2"), false);
    assert.equal(await new StoreDedupe(a, "d:nodeB:", 60_000).checkAndRemember("exec_2"), false);
  });

  it("emits exactly one of many concurrent checks of the same id from two instances", async () => {
    const first = new StoreDedupe(a, "d:race:", 60_000);
    const second = new StoreDedupe(b, "d:race:", 60_000);
    for (let round = 0; round < 50; round++) {
      const id = `exec_race_${round}`;
      const results = await Promise.all([0, 1, 2, 3].map((i) => (i % 2 ? first : second).checkAndRemember(id)));
      assert.equal(results.filter((duplicate) => !duplicate).length, 1, `round ${round}`);
    }
  });

  it("forgets an id after the ttl", async () => {
    const dedupe = new StoreDedupe(a, "d:ttl:", 100);
    assert.equal(await dedupe.checkAndRemember("exec_3"), false);
    assert.equal(await dedupe.checkAndRemember("exec_3"), true);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(await dedupe.checkAndRemember("exec_3"), false);
    const ttl = Number(await a.sendCommand(["PTTL", "d:ttl:exec_3"]));
    assert.ok(ttl > 0 && ttl <= 100, `ttl ${ttl}`);
  });

  it("rejects with StoreUnavailableError when the store is down (nothing known about the id)", async () => {
    const down = new RedisServer();
    await down.start();
    const connection = await openStore(down.url, "d:");
    try {
      await down.stop();
      await assert.rejects(new StoreDedupe(connection, "d:x:", 1000).checkAndRemember("exec_4"), StoreUnavailableError);
    } finally {
      await connection.close();
      down.cleanup();
    }
  });
});
