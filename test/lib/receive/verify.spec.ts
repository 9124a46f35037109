import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { Webhook } from "standardwebhooks";
import type { IncomingHttpHeaders } from "node:http";
import { checkHeaders, verifyBody, type VerifyOptions, type VerifyResult } from "../../../nodes/lib/receive/verify";

/** Both steps as the receiver takes them: the headers before the body is read, then the body. */
function verifyRequest(options: VerifyOptions, headers: IncomingHttpHeaders, rawBody: Buffer): VerifyResult {
  const checked = checkHeaders(options, headers);
  if (!checked.ok) return checked;
  return checked.complete ? { ok: true } : verifyBody(options, headers, rawBody);
}

const body = Buffer.from('{ "agent_loop_id":"l", "execution_id":"e",\n "status":"completed", "note":"caf\u00e9" }');

function opts(partial: Partial<VerifyOptions>): VerifyOptions {
  return { mode: "secret", secrets: ["s1"], secretHeader: "X-Webhook-Secret", toleranceSeconds: 300, ...partial };
}
const hex = (key: string, data: Buffer): string => createHmac("sha256", key).update(data).digest("hex");

describe("lib/verify", () => {
  describe("secret", () => {
    it("accepts the right secret in the configured header, any header case", () => {
      assert.deepEqual(verifyRequest(opts({}), { "x-webhook-secret": "s1" }, body), { ok: true });
      assert.deepEqual(verifyRequest(opts({ secretHeader: "Authorization" }), { authorization: "s1" }, body), { ok: true });
    });
    it("refuses a wrong, missing or empty secret", () => {
      assert.deepEqual(verifyRequest(opts({}), { "x-webhook-secret": "s2" }, body), { ok: false, cause: "wrong-secret" });
      assert.deepEqual(verifyRequest(opts({}), { "x-webhook-secret": "s1x" }, body), { ok: false, cause: "wrong-secret" });
      assert.deepEqual(verifyRequest(opts({}), {}, body), { ok: false, cause: "missing-secret" });
      assert.deepEqual(verifyRequest(opts({}), { "x-webhook-secret": "" }, body), { ok: false, cause: "missing-secret" });
    });
    it("accepts every rotated secret", () => {
      const o = opts({ secrets: ["old", "new"] });
      assert.equal(verifyRequest(o, { "x-webhook-secret": "old" }, body).ok, true);
      assert.equal(verifyRequest(o, { "x-webhook-secret": "new" }, body).ok, true);
      assert.equal(verifyRequest(o, { "x-webhook-secret": "other" }, body).ok, false);
    });
    it("refuses everything when no secret is configured", () => {
      assert.deepEqual(verifyRequest(opts({ secrets: [] }), { "x-webhook-secret": "" }, body), {
        ok: false,
        cause: "no-secret-configured",
      });
    });
  });

  describe("signature", () => {
    const o = opts({ mode: "signature", secrets: ["k1"] });
    it("accepts sha256=<hex HMAC of the raw bytes> (hex in any case)", () => {
      assert.equal(verifyRequest(o, { "x-signature": `sha256=${hex("k1", body)}` }, body).ok, true);
      assert.equal(verifyRequest(o, { "x-signature": `sha256=${hex("k1", body).toUpperCase()}` }, body).ok, true);
    });
    it("refuses a signature of other bytes (same JSON, different whitespace)", () => {
      const reformatted = Buffer.from(JSON.stringify(JSON.parse(body.toString())));
      assert.deepEqual(verifyRequest(o, { "x-signature": `sha256=${hex("k1", reformatted)}` }, body), {
        ok: false,
        cause: "wrong-signature",
      });
    });
    it("refuses wrong key, missing header, missing prefix", () => {
      assert.equal(verifyRequest(o, { "x-signature": `sha256=${hex("k2", body)}` }, body).ok, false);
      assert.deepEqual(verifyRequest(o, {}, body), { ok: false, cause: "missing-signature" });
      assert.equal(verifyRequest(o, { "x-signature": hex("k1", body) }, body).ok, false);
    });
    it("accepts rotated keys", () => {
      const rotated = opts({ mode: "signature", secrets: ["k0", "k1"] });
      assert.equal(verifyRequest(rotated, { "x-signature": `sha256=${hex("k1", body)}` }, body).ok, true);
      assert.equal(verifyRequest(rotated, { "x-signature": `sha256=${hex("k0", body)}` }, body).ok, true);
    });
  });

  describe("standard-webhooks", () => {
    const key = "whsec_" + Buffer.from("0123456789abcdef0123456789abcdef").toString("base64");
    const other = "whsec_" + Buffer.from("another key of thirty two bytes!").toString("base64");
    const now = 1_700_000_000_000;
    const o = opts({ mode: "standard-webhooks", secrets: [key], now: () => now });
    // Signed by the reference library, not by our own sign.ts.
    const signed = (k: string, atMs: number, id = "msg_1"): Record<string, string> => ({
      "webhook-id": id,
      "webhook-timestamp": String(Math.floor(atMs / 1000)),
      "webhook-signature": new Webhook(k).sign(id, new Date(atMs), body),
    });
    it("accepts a reference-library signature", () => {
      assert.deepEqual(verifyRequest(o, signed(key, now), body), { ok: true });
    });
    it("accepts timestamps within tolerance and refuses stale or future ones outside it", () => {
      assert.equal(verifyRequest(o, signed(key, now - 299_000), body).ok, true);
      assert.deepEqual(verifyRequest(o, signed(key, now - 301_000), body), { ok: false, cause: "stale-timestamp" });
      assert.deepEqual(verifyRequest(o, signed(key, now + 301_000), body), { ok: false, cause: "stale-timestamp" });
    });
    it("refuses wrong key, missing headers, non-numeric timestamps, tampered ids", () => {
      assert.deepEqual(verifyRequest(o, signed(other, now), body), { ok: false, cause: "wrong-signature" });
      const h = signed(key, now);
      assert.deepEqual(verifyRequest(o, { ...h, "webhook-id": "msg_2" }, body), { ok: false, cause: "wrong-signature" });
      const { "webhook-id": _id, ...noId } = h;
      assert.deepEqual(verifyRequest(o, noId, body), { ok: false, cause: "missing-webhook-headers" });
      assert.deepEqual(verifyRequest(o, { ...h, "webhook-timestamp": "soon" }, body), { ok: false, cause: "bad-timestamp" });
    });
    it("accepts a header with several signatures and rotated keys", () => {
      const h = signed(key, now);
      const both = { ...h, "webhook-signature": `v1,AAAA ${h["webhook-signature"]}` };
      assert.equal(verifyRequest(o, both, body).ok, true);
      const rotated = opts({ mode: "standard-webhooks", secrets: [other, key], now: () => now });
      assert.equal(verifyRequest(rotated, h, body).ok, true);
    });
  });

  it("none accepts anything", () => {
    assert.deepEqual(verifyRequest(opts({ mode: "none", secrets: [] }), {}, body), { ok: true });
  });
});
