import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { ClientLimiter, clientAddress } from "../../../nodes/lib/receive/client-limit";
import { PendingBudget } from "../../../nodes/lib/receive/pending";

const request = (remoteAddress: string, forwarded?: string | string[]): IncomingMessage =>
  ({ socket: { remoteAddress }, headers: forwarded === undefined ? {} : { "x-forwarded-for": forwarded } }) as unknown as IncomingMessage;

describe("lib/receive/client-limit and pending", () => {
  it("limits failures per client: one client over its limit leaves the others alone", () => {
    const now = 0;
    const limiter = new ClientLimiter(3, 100, () => now);
    for (let i = 0; i < 3; i++) assert.equal(limiter.fail("a").ok, true);
    assert.deepEqual(limiter.fail("a"), { ok: false, retryAfterSeconds: 20 });
    assert.equal(limiter.check("a").ok, false);
    assert.equal(limiter.check("b").ok, true);
    assert.equal(limiter.fail("b").ok, true);
  });

  it("keeps a bounded table, forgetting the least recently seen client first", () => {
    const limiter = new ClientLimiter(1, 3, () => 0);
    for (const client of ["a", "b", "c"]) limiter.fail(client);
    limiter.check("a"); // a is now the most recent
    limiter.fail("d");
    assert.equal(limiter.size, 3);
    assert.equal(limiter.check("a").ok, false, "a kept");
    assert.equal(limiter.check("b").ok, true, "b forgotten");
  });

  it("0 per minute is unlimited and keeps no table", () => {
    const limiter = new ClientLimiter(0);
    for (let i = 0; i < 100; i++) assert.equal(limiter.fail(`c${i}`).ok, true);
    assert.equal(limiter.size, 0);
  });

  it("the client address is the socket's, or the last X-Forwarded-For entry only with trustProxy", () => {
    assert.equal(clientAddress(request("::ffff:10.0.0.9", "1.2.3.4"), false), "10.0.0.9");
    assert.equal(clientAddress(request("127.0.0.1", "6.6.6.6, 1.2.3.4"), true), "1.2.3.4");
    assert.equal(clientAddress(request("127.0.0.1", ["6.6.6.6", "5.5.5.5"]), true), "5.5.5.5");
    assert.equal(clientAddress(request("127.0.0.1"), true), "127.0.0.1");
  });

  it("pending bytes: capped in total and per client, released when read", () => {
    const budget = new PendingBudget(100);
    assert.equal(budget.reserve("a", 25), true);
    assert.equal(budget.reserve("a", 1), false, "a quarter per client");
    assert.equal(budget.reserve("b", 60), true, "one body larger than a quarter still fits alone");
    assert.equal(budget.reserve("c", 20), false, "total cap");
    budget.release("b", 60);
    assert.equal(budget.reserve("c", 20), true);
    assert.equal(budget.pendingBytes, 45);
  });

  it("pending bytes: keeps no entry per past client (one, at 0, for a lone sender), and a kept 0 counts as nothing", () => {
    const budget = new PendingBudget(100);
    for (let i = 0; i < 50; i++) {
      assert.equal(budget.reserve(`10.0.0.${i}`, 25), true);
      assert.equal(budget.reserve(`10.0.1.${i}`, 25), true);
      budget.release(`10.0.0.${i}`, 25);
      budget.release(`10.0.1.${i}`, 25);
    }
    assert.equal(budget.pendingBytes, 0);
    assert.ok(budget.clientEntries <= 1, `entries: ${budget.clientEntries}`);
    // The client left at 0 gets its full quarter again, and no more.
    const kept = "10.0.1.49";
    assert.equal(budget.reserve(kept, 25), true);
    assert.equal(budget.reserve(kept, 1), false);
    budget.release(kept, 25);
    assert.equal(budget.clientEntries, 1);
    budget.release("never-reserved", 10);
    assert.equal(budget.clientEntries, 1, "a release without a reservation adds nothing");
  });
});
