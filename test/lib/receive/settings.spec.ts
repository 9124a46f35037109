import assert from "node:assert/strict";
import { readSettings } from "../../../nodes/lib/receive/settings";

describe("lib/receive/settings", () => {
  it("uses the defaults for a node with no properties", () => {
    const { settings, problems } = readSettings({}, undefined);
    assert.deepEqual(problems, []);
    assert.deepEqual(settings, {
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
});
