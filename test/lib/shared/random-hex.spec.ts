import assert from "node:assert/strict";
import { randomHex } from "../../../nodes/lib/shared/random-hex";

describe("lib/random-hex", () => {
  it("gives 2 hex characters per byte, across pool refills, without repeats", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i += 1) {
      const bytes = 1 + (i % 12);
      const hex = randomHex(bytes);
      assert.match(hex, new RegExp(`^[0-9a-f]{${2 * bytes}}$`));
      if (bytes >= 8) {
        assert.ok(!seen.has(hex), `repeated ${hex}`);
        seen.add(hex);
      }
    }
    assert.match(randomHex(5000), /^[0-9a-f]{10000}$/);
  });
});
