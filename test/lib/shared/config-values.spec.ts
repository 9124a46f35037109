import assert from "node:assert/strict";
import { numberOrDefault } from "../../../nodes/lib/shared/config-values";

describe("lib/shared/config-values", () => {
  it("numberOrDefault: blank is the default without a problem", () => {
    for (const blank of [undefined, null, "", "  "]) assert.deepEqual(numberOrDefault("timeout", blank, 15), { value: 15 });
  });

  it("numberOrDefault: numbers and numeric strings within the rule are used", () => {
    assert.deepEqual(numberOrDefault("timeout", "2.5", 15, { min: 0, exclusive: true }), { value: 2.5 });
    assert.deepEqual(numberOrDefault("concurrency", 4, 8, { min: 1, integer: true }), { value: 4 });
    assert.deepEqual(numberOrDefault("rateLimit", 0, 600), { value: 0 });
  });

  it("numberOrDefault: a value that breaks the rule gives the default and names the field", () => {
    assert.deepEqual(numberOrDefault("concurrency", "1.5", 8, { min: 1, integer: true }), {
      value: 8,
      problem: { field: "concurrency", value: "1.5", fallback: 8 },
    });
    assert.equal(numberOrDefault("timeout", 0, 15, { min: 0, exclusive: true }).problem?.field, "timeout");
    assert.equal(numberOrDefault("rateLimit", "abc", 600).value, 600);
    assert.equal(numberOrDefault("rateLimit", -1, 600).problem?.value, "-1");
    assert.equal(numberOrDefault("rateLimit", true, 600).problem?.value, "true");
  });
});
