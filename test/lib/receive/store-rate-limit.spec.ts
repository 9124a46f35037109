import assert from "node:assert/strict";
import { StoreTokenBucket } from "../../../nodes/lib/receive/store-rate-limit";
import { useTwoStoreConnections } from "../../support/store";

describe("lib/receive/store-rate-limit (real redis-server)", () => {
  const stores = useTwoStoreConnections("r:");

  it("gives stores.a burst of perMinute tokens shared by two instances, then refuses with Retry-After", async () => {
    const first = new StoreTokenBucket(stores.a, "r:bucket1", 10);
    const second = new StoreTokenBucket(stores.b, "r:bucket1", 10);
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? first : second).take()));
    assert.equal(results.filter((r) => r.ok).length, 10);
    const refused = results.find((r) => !r.ok);
    assert.ok(refused && !refused.ok);
    // 10 stores.a minute: one token every 6 s.
    assert.ok(refused.retryAfterSeconds >= 1 && refused.retryAfterSeconds <= 6, String(refused.retryAfterSeconds));
  });

  it("refills at perMinute per minute", async () => {
    const bucket = new StoreTokenBucket(stores.a, "r:bucket2", 600); // 10 stores.a second
    let granted = 0;
    while ((await bucket.take()).ok) granted++;
    // The burst, plus what came back while the takes ran one after another.
    assert.ok(granted >= 600 && granted < 700, `granted ${granted}`);
    await new Promise((resolve) => setTimeout(resolve, 350));
    const after = await Promise.all(Array.from({ length: 10 }, () => bucket.take()));
    const ok = after.filter((r) => r.ok).length;
    assert.ok(ok >= 2 && ok <= 6, `tokens back after 350 ms: ${ok}`);
  });

  it("0 means unlimited (no store call)", async () => {
    const bucket = new StoreTokenBucket(stores.a, "r:none", 0);
    for (let i = 0; i < 100; i++) assert.equal((await bucket.take()).ok, true);
    assert.equal(await stores.a.sendCommand(["EXISTS", "r:none"]), 0);
  });
});
