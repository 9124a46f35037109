import assert from "node:assert/strict";
import { readSettings } from "../../../nodes/lib/receive/settings";

describe("lib/receive/settings", () => {
  it("uses the defaults for a node with no properties", () => {
    const { settings, problems, invalidKeys } = readSettings({}, undefined);
    assert.deepEqual(problems, []);
    assert.equal(invalidKeys, 0);
    assert.deepEqual(settings, {
      source: "agent-loop",
      fetchResult: false,
      apiBase: "https://api.openai.com/v1",
      url: "/agent-results",
      verify: "secret",
      secrets: [],
      secretHeader: "X-Webhook-Secret",
      toleranceSeconds: 300,
      dedupe: true,
      dedupeTtlMs: 86_400_000,
      rateLimit: 600,
      maxBodyBytes: 1024 * 1024,
      respondInFlow: false,
      trustProxy: false,
      maxPendingBytes: 16384 * 1024,
    });
  });

  it("reads the editor's strings and splits rotated secrets", () => {
    const { settings } = readSettings(
      { url: "hooks/x", verify: "signature", dedupe: "false", dedupeTtl: "60", rateLimit: "0", maxBody: "2", respond: "flow" },
      "a\nb, c",
    );
    assert.equal(settings.url, "/hooks/x");
    assert.equal(settings.verify, "signature");
    assert.deepEqual(settings.secrets, ["a", "b", "c"]);
    assert.equal(settings.dedupe, false);
    assert.equal(settings.dedupeTtlMs, 60_000);
    assert.equal(settings.rateLimit, 0);
    assert.equal(settings.maxBodyBytes, 2048);
    assert.equal(settings.respondInFlow, true);
  });

  it("a bad number gives the default and a problem naming the field", () => {
    const { settings, problems } = readSettings({ rateLimit: -5, maxBody: "lots", tolerance: "x" }, "s");
    assert.equal(settings.rateLimit, 600);
    assert.equal(settings.maxBodyBytes, 1024 * 1024);
    assert.equal(settings.toleranceSeconds, 300);
    assert.deepEqual(
      problems.map((p) => `${p.field}=${p.value}->${p.fallback}`),
      ["tolerance=x->300", "rateLimit=-5->600", "maxBody=lots->1024"],
    );
  });

  it("rateLimit between 0 and 1 is invalid (no whole token would ever come back): the default, with its own message", () => {
    for (const value of [0.5, "0.99", 0.001]) {
      const { settings, problems } = readSettings({ rateLimit: value }, "s");
      assert.equal(settings.rateLimit, 600);
      assert.deepEqual(problems, [{ field: "rateLimit", value: String(value), fallback: 600, key: "invalid-rate-limit" }]);
    }
    assert.equal(readSettings({ rateLimit: 1 }, "s").settings.rateLimit, 1);
    assert.equal(readSettings({ rateLimit: "0" }, "s").settings.rateLimit, 0);
  });

  it("trustProxy and maxPending (KiB)", () => {
    const { settings, problems } = readSettings({ trustProxy: true, maxPending: "64" }, "s");
    assert.equal(settings.trustProxy, true);
    assert.equal(settings.maxPendingBytes, 64 * 1024);
    assert.deepEqual(problems, []);
    assert.equal(readSettings({ maxPending: "0" }, "s").problems[0]?.field, "maxPending");
  });

  it("Standard Webhooks keys that are not whsec_ + base64 of 24 bytes or more are dropped and counted", () => {
    const good = "whsec_" + Buffer.alloc(24, 7).toString("base64");
    const short = "whsec_" + Buffer.alloc(23, 7).toString("base64");
    const bad = "whsec_not*base64!";
    const { settings, invalidKeys } = readSettings({ verify: "standard-webhooks" }, [good, short, bad, "whsec_"].join("\n"));
    assert.deepEqual(settings.secrets, [good]);
    assert.equal(invalidKeys, 3);
    // Other modes take any secret.
    assert.equal(readSettings({ verify: "secret" }, short).invalidKeys, 0);
  });
});
