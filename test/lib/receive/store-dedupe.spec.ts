import assert from "node:assert/strict";
import { CallbackPendingError, StoreDedupe } from "../../../nodes/lib/receive/store-dedupe";
import { StoreUnavailableError } from "../../../nodes/lib/store/connection";
import { RedisServer } from "../../support/redis-server";
import { openStore, useTwoStoreConnections } from "../../support/store";

describe("lib/receive/store-dedupe (real redis-server)", () => {
  const stores = useTwoStoreConnections("d:");

  it("claims an id once; once emitted it is stores.a duplicate for every instance", async () => {
    const first = new StoreDedupe(stores.a, "d:node1:", 60_000);
    const second = new StoreDedupe(stores.b, "d:node1:", 60_000);
    assert.equal(await first.checkAndRemember("exec_1"), false);
    await first.emitted("exec_1");
    assert.equal(await second.checkAndRemember("exec_1"), true);
    assert.equal(await first.checkAndRemember("exec_1"), true);
    const ttl = Number(await stores.a.sendCommand(["PTTL", "d:node1:exec_1"]));
    assert.ok(ttl > 59_000 && ttl <= 60_000, `ttl ${ttl}`);
  });

  it("asks the sender to come back while stores.a claim is not yet emitted", async () => {
    const first = new StoreDedupe(stores.a, "d:node2:", 60_000);
    const second = new StoreDedupe(stores.b, "d:node2:", 60_000);
    assert.equal(await first.checkAndRemember("exec_p"), false);
    await assert.rejects(second.checkAndRemember("exec_p"), (err: unknown) => {
      assert.ok(err instanceof CallbackPendingError);
      assert.ok(err.retryAfterSeconds >= 1 && err.retryAfterSeconds <= 30, String(err.retryAfterSeconds));
      return true;
    });
  });

  it("lets stores.a retry claim an id whose claim was never emitted (its reply lost), once the claim expires", async () => {
    const lost = new StoreDedupe(stores.a, "d:node3:", 60_000, 150);
    const retry = new StoreDedupe(stores.b, "d:node3:", 60_000, 150);
    assert.equal(await lost.checkAndRemember("exec_l"), false);
    await assert.rejects(retry.checkAndRemember("exec_l"), CallbackPendingError);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(await retry.checkAndRemember("exec_l"), false);
  });

  it("keeps each node's ids apart", async () => {
    assert.equal(await new StoreDedupe(stores.a, "d:nodeA:", 60_000).checkAndRemember("exec_2"), false);
    assert.equal(await new StoreDedupe(stores.a, "d:nodeB:", 60_000).checkAndRemember("exec_2"), false);
  });

  it("gives exactly one of many concurrent checks of the same id from two instances the claim", async () => {
    const first = new StoreDedupe(stores.a, "d:race:", 60_000);
    const second = new StoreDedupe(stores.b, "d:race:", 60_000);
    for (let round = 0; round < 50; round++) {
      const id = `exec_race_${round}`;
      const results = await Promise.allSettled([0, 1, 2, 3].map((i) => (i % 2 ? first : second).checkAndRemember(id)));
      const claimed = results.filter((r) => r.status === "fulfilled" && r.value === false).length;
      const pending = results.filter((r) => r.status === "rejected" && r.reason instanceof CallbackPendingError).length;
      assert.equal(claimed, 1, `round ${round}`);
      assert.equal(pending, 3, `round ${round}`);
    }
  });

  it("forgets an emitted id after the ttl", async () => {
    const dedupe = new StoreDedupe(stores.a, "d:ttl:", 100);
    assert.equal(await dedupe.checkAndRemember("exec_3"), false);
    await dedupe.emitted("exec_3");
    assert.equal(await dedupe.checkAndRemember("exec_3"), true);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(await dedupe.checkAndRemember("exec_3"), false);
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

  it("commits an emitted id once the store is back within the claim's time", async () => {
    const own = new RedisServer();
    await own.start();
    const connection = await openStore(own.url, "d:");
    try {
      const dedupe = new StoreDedupe(connection, "d:back:", 60_000, 10_000);
      assert.equal(await dedupe.checkAndRemember("exec_5"), false);
      await own.stop();
      const committing = dedupe.emitted("exec_5");
      await new Promise((resolve) => setTimeout(resolve, 700));
      await own.start();
      await committing;
      assert.equal(await connection.sendCommand(["GET", "d:back:exec_5"]), "done");
    } finally {
      await connection.close();
      await own.stop();
      own.cleanup();
    }
  });
});
