import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";
import { Webhook } from "standardwebhooks";
import {
  constantTimeEqual,
  hmacSha256Hex,
  signatureHeaderValue,
  splitSecrets,
  standardWebhooksSignature,
} from "../../../nodes/lib/shared/sign";

describe("lib/sign", () => {
  it("computes the X-Signature value as node:crypto does", () => {
    const body = Buffer.from('{"a":1}');
    const expected = createHmac("sha256", "k").update(body).digest("hex");
    assert.equal(hmacSha256Hex("k", body), expected);
    assert.equal(signatureHeaderValue("k", body), `sha256=${expected}`);
  });

  it("produces Standard Webhooks signatures the reference library verifies", () => {
    const key = `whsec_${randomBytes(24).toString("base64")}`;
    const body = '{"status":"completed"}';
    const timestamp = Math.floor(Date.now() / 1000);
    const headers = {
      "webhook-id": "exec_1",
      "webhook-timestamp": String(timestamp),
      "webhook-signature": standardWebhooksSignature(key, "exec_1", timestamp, body),
    };
    assert.deepEqual(new Webhook(key).verify(body, headers), { status: "completed" });
  });

  it("compares strings without short-circuiting", () => {
    assert.equal(constantTimeEqual("abc", "abc"), true);
    assert.equal(constantTimeEqual("abc", "abd"), false);
    assert.equal(constantTimeEqual("abc", "abcd"), false);
    assert.equal(constantTimeEqual("", ""), true);
  });

  it("splits rotated secrets on newlines and commas", () => {
    assert.deepEqual(splitSecrets(" one\ntwo , three\n\n"), ["one", "two", "three"]);
    assert.deepEqual(splitSecrets(undefined), []);
  });
});
