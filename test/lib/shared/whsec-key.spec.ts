// Standard Webhooks keys are decoded strictly on both sides: never an HMAC with an empty or
// truncated key.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readSettings } from "../../../nodes/lib/send/settings";
import { standardWebhooksKeyBytes, standardWebhooksSignature } from "../../../nodes/lib/shared/sign";

const bad = [
  "whsec_",
  "whsec_" + randomBytes(23).toString("base64"),
  "whsec_" + randomBytes(24).toString("base64").slice(0, -1),
  "whsec_" + randomBytes(24).toString("base64url").replace(/^./, "-"),
  "whsec_not base64 at all!!",
  "whsec_QUJD\nREVG",
];

describe("Standard Webhooks keys (shared by callback in and callback out)", () => {
  it("decodes whsec_ + base64 of 24 bytes or more, with or without the prefix", () => {
    const bytes = randomBytes(32);
    assert.deepEqual(standardWebhooksKeyBytes("whsec_" + bytes.toString("base64")), bytes);
    assert.deepEqual(standardWebhooksKeyBytes(bytes.toString("base64")), bytes);
  });

  it("refuses keys that are not valid base64 or decode to fewer than 24 bytes", () => {
    for (const key of bad) {
      assert.equal(standardWebhooksKeyBytes(key), undefined, key);
      assert.throws(() => standardWebhooksSignature(key, "id", 1, "{}"), /invalid Standard Webhooks key/);
    }
  });

  it("callback out refuses such a signing key with a configuration error naming the fix", () => {
    const context = { hasSigningKey: true, env: () => "", message: (key: string) => key };
    for (const key of bad.slice(1)) {
      assert.throws(() => readSettings({ signature: "standard-webhooks" }, { ...context, signingKey: key }), {
        message: "errors.bad-whsec",
      });
    }
    const good = "whsec_" + randomBytes(24).toString("base64");
    assert.equal(readSettings({ signature: "standard-webhooks" }, { ...context, signingKey: good }).signature, "standard-webhooks");
    // The HMAC mode takes any key.
    assert.equal(readSettings({ signature: "hmac-sha256" }, { ...context, signingKey: "short" }).signature, "hmac-sha256");
  });
});
