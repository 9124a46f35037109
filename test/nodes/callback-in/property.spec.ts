// Property: whatever body and headers a stranger sends (without the secret), callback in answers
// with a 4xx JSON reply, never crashes, and never emits anything.
import assert from "node:assert/strict";
import type { Application } from "express";
import fc from "fast-check";
import supertest from "supertest";
import callbackIn from "../../../nodes/callback-in";
import { samplePayload } from "../../../nodes/lib/shared/payload";
import { helper } from "../../support/test-helper";

// Random secrets of this length and alphabet are never generated below.
const SECRET = "Zq9-secret-never-generated-7f3c1e5a9b";
const WHSEC = "whsec_" + Buffer.from("property test key of 24b").toString("base64");

const printable = fc.string({
  unit: fc.constantFrom(..." !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~"),
  maxLength: 80,
});
const headerName = fc.constantFrom(
  "X-Webhook-Secret",
  "X-Signature",
  "webhook-id",
  "webhook-timestamp",
  "webhook-signature",
  "Authorization",
  "X-Anything",
);
const headerValue = fc.oneof(
  printable,
  fc.constantFrom("sha256=", "v1,", "v1,AAAA", "0", String(Math.floor(Date.now() / 1000)), "whsec_", "sha256=" + "0".repeat(64)),
);
const contentType = fc.oneof(
  fc.constant("application/json"),
  fc.constantFrom(
    "application/json; charset=utf-8",
    "text/plain",
    "application/x-www-form-urlencoded",
    "application/cloudevents+json",
    "multipart/form-data; boundary=x",
    "application/octet-stream",
  ),
);
const body = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.json({ maxDepth: 3 }),
  // Valid-looking payloads, possibly with fields mutated, so that later checks are reached.
  fc
    .record({
      status: fc.constantFrom("completed", "failed", "timeout", "done", ""),
      execution_id: fc.oneof(fc.string(), fc.integer()),
      extra: fc.anything(),
    })
    .map((o) => JSON.stringify({ ...samplePayload(), ...o })),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes).toString("latin1")),
  fc.string({ minLength: 1100, maxLength: 1400 }),
);

for (const verify of ["secret", "signature", "standard-webhooks"] as const) {
  describe(`callback in, property: strangers get 4xx JSON and nothing is emitted (verify ${verify})`, function () {
    let app: Application;
    let emitted = 0;
    before(() => helper.startServer());
    after(() => helper.stopServer());
    before(async () => {
      await helper.load(
        [(RED: { httpNode: Application }) => (app = RED.httpNode), callbackIn],
        [
          { id: "in", type: "agent-callback-in", url: "/p", verify, maxBody: 1, rateLimit: 0, wires: [["c"], ["c"], ["c"]] },
          { id: "c", type: "helper" },
        ],
        { in: { secret: verify === "standard-webhooks" ? WHSEC : SECRET } },
      );
      helper.getNode("c").on("input", () => emitted++);
    });
    after(() => helper.unload());

    it("holds for random bodies and headers", async () => {
      await fc.assert(
        fc.asyncProperty(
          body,
          contentType,
          fc.dictionary(headerName, headerValue, { maxKeys: 4 }),
          fc.boolean(),
          async (raw, type, headers, withType) => {
            const request = supertest(app).post("/p");
            for (const [k, v] of Object.entries(headers)) request.set(k, v);
            if (withType) request.set("Content-Type", type);
            const res = await request.send(raw);
            assert.ok(res.status >= 400 && res.status < 500, `status ${res.status} for ${JSON.stringify({ raw, type, headers })}`);
            assert.match(String(res.headers["content-type"]), /^application\/json/);
            const reply = JSON.parse(res.text) as { error?: unknown };
            assert.equal(typeof reply.error, "string");
            assert.ok(!res.text.includes(SECRET) && !res.text.includes(WHSEC));
          },
        ),
        { numRuns: 150 },
      );
      // The runtime is still healthy and emits in order: a right request arrives alone.
      const raw = JSON.stringify({ ...samplePayload(), execution_id: "after-property" });
      const request = supertest(app).post("/p").set("Content-Type", "application/json");
      if (verify === "secret") request.set("X-Webhook-Secret", SECRET);
      if (verify === "signature") {
        const { createHmac } = await import("node:crypto");
        request.set("X-Signature", "sha256=" + createHmac("sha256", SECRET).update(raw).digest("hex"));
      }
      if (verify === "standard-webhooks") {
        const { Webhook } = await import("standardwebhooks");
        const now = new Date();
        request.set({
          "webhook-id": "m1",
          "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
          "webhook-signature": new Webhook(WHSEC).sign("m1", now, raw),
        });
      }
      const ok = await request.send(raw);
      assert.equal(ok.status, 200, ok.text);
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("valid request never emitted")), 20_000);
        const poll = (): void => {
          if (emitted >= 1) {
            clearTimeout(timer);
            resolve();
          } else setTimeout(poll, 10);
        };
        poll();
      });
      assert.equal(emitted, 1, "only the valid request was emitted");
    });
  });
}
