// Records changed by compare-and-set in a real redis-server: two instances that each last saw an
// old record never overwrite each other's change; a record set to nothing is removed.
import assert from "node:assert/strict";
import { SharedRecords } from "../../../nodes/lib/store/shared-records";
import { useTwoStoreConnections } from "../../support/store";

interface Counter {
  n: number;
}
const readCounter = (json: string): Counter | undefined => {
  const value = JSON.parse(json) as { n?: unknown };
  return typeof value.n === "number" ? { n: value.n } : undefined;
};
const increment = (record: Counter | undefined): { next: Counter; result: number } => {
  const n = (record?.n ?? 0) + 1;
  return { next: { n }, result: n };
};

describe("lib/store/shared-records (real redis-server)", () => {
  const stores = useTwoStoreConnections("r:");
  let hash = 0;

  it("two instances counting the same record by turns lose none of each other's counts", async () => {
    const key = `r:h${++hash}`;
    const first = new SharedRecords(stores.a, key, readCounter);
    const second = new SharedRecords(stores.b, key, readCounter);
    // Each sees the other's change only when its compare-and-set fails: every count must still land.
    const results: number[] = [];
    for (let i = 0; i < 10; i++) {
      results.push(await first.update("x", increment));
      results.push(await second.update("x", increment));
    }
    assert.deepEqual(
      results,
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    assert.equal(await stores.a.sendCommand(["HGET", key, "x"]), JSON.stringify({ n: 20 }));
  });

  it("100 updates at the same time from two connections all land", async () => {
    const key = `r:h${++hash}`;
    const first = new SharedRecords(stores.a, key, readCounter);
    const second = new SharedRecords(stores.b, key, readCounter);
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 ? first : second).update("x", increment)));
    assert.deepEqual(
      [...results].sort((x, y) => x - y),
      Array.from({ length: 100 }, (_, i) => i + 1),
    );
    assert.equal(await stores.a.sendCommand(["HGET", key, "x"]), JSON.stringify({ n: 100 }));
  });

  it("stores.a record set to nothing is removed, and refresh shows another instance's records", async () => {
    const key = `r:h${++hash}`;
    const first = new SharedRecords(stores.a, key, readCounter);
    const second = new SharedRecords(stores.b, key, readCounter);
    await first.update("x", increment);
    await first.update("y", increment);
    assert.deepEqual([...second.known()], []);
    await second.refresh();
    assert.deepEqual(
      [...second.known()],
      [
        ["x", { n: 1 }],
        ["y", { n: 1 }],
      ],
    );
    await second.update("x", () => ({ next: undefined, result: undefined }));
    assert.equal(await stores.a.sendCommand(["HEXISTS", key, "x"]), 0);
    await first.refresh();
    assert.deepEqual([...first.known()], [["y", { n: 1 }]]);
  });

  it("an unchanged record is still confirmed against the store (stores.a stale copy is corrected)", async () => {
    const key = `r:h${++hash}`;
    const first = new SharedRecords(stores.a, key, readCounter);
    const second = new SharedRecords(stores.b, key, readCounter);
    await first.update("x", increment);
    await second.update("x", increment);
    // first last saw n=1; stores.a read-only change must see n=2.
    const seen = await first.update("x", (record) => ({ next: record, result: record?.n }));
    assert.equal(seen, 2);
  });

  it("text that is not stores.a record counts as none, and is replaced", async () => {
    const key = `r:h${++hash}`;
    await stores.a.sendCommand(["HSET", key, "x", "not json"]);
    const records = new SharedRecords(stores.a, key, readCounter);
    assert.equal(await records.update("x", increment), 1);
    assert.equal(await stores.a.sendCommand(["HGET", key, "x"]), JSON.stringify({ n: 1 }));
  });
});
