// Property: whatever body and headers a stranger sends (without the secret), callback in answers
// with a 4xx JSON reply, never crashes, and never emits anything.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import type { Application } from "express";
import fc from "fast-check";
import supertest from "supertest";
import callbackIn from "../../../nodes/callback-in";
import { samplePayload } from "../../../nodes/lib/shared/payload";
import { helper } from "../../support/test-helper";
import { rawPost } from "../../support/raw-client";

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

// Headers as well as bodies, over a real socket (repeated headers, chunked bodies, gzip, charsets):
// never a 5xx other than 503, nothing emitted for a request that fails any check, and every
// genuine callback emitted exactly once.
type Mutation =
  | "none"
  | "replay"
  | "wrong-auth"
  | "no-auth"
  | "duplicate-auth"
  | "text-type"
  | "no-type"
  | "gzip"
  | "latin1"
  | "tampered"
  | "schema"
  | "long-id"
  | "too-large"
  | "stale";
const MUTATIONS: Mutation[] = [
  "none",
  "replay",
  "wrong-auth",
  "no-auth",
  "duplicate-auth",
  "text-type",
  "no-type",
  "gzip",
  "latin1",
  "tampered",
  "schema",
  "long-id",
  "too-large",
  "stale",
];

interface PlanInput {
  mutation: Mutation;
  extra: Array<[string, string]>;
  charsetVariant: string;
  cuts: number[];
  chunked: boolean;
  name: string;
}
interface Planned {
  headers: Record<string, string | string[]>;
  pieces: Buffer[];
  chunked: boolean;
  id: string;
  /** True when the request must be accepted and its id emitted exactly once. */
  genuine: boolean;
}

const fuzzHeaders = fc.array(
  fc.tuple(
    fc.constantFrom("X-Fuzz", "X-Fuzz-2", "Accept", "User-Agent", "X-Request-Id", "Cookie"),
    fc.oneof(printable, fc.string({ unit: fc.constantFrom("a", "\u00e9", " ", "=", ";"), maxLength: 2000 })),
  ),
  { maxLength: 6 },
);
const requestPlan = fc.record({
  mutation: fc.constantFrom(...MUTATIONS),
  extra: fuzzHeaders,
  charsetVariant: fc.constantFrom(
    "application/json",
    "application/json; charset=utf-8",
    "Application/JSON;Charset=UTF-8",
    'application/json; charset="utf8"',
  ),
  cuts: fc.array(fc.nat(), { maxLength: 4 }),
  chunked: fc.boolean(),
  name: fc.string({ unit: fc.constantFrom("a", "\u00e9", "\u2615", " "), maxLength: 40 }),
});

function authHeaders(
  verify: "secret" | "signature" | "standard-webhooks",
  raw: Buffer,
  id: string,
  secondsAgo: number,
): Record<string, string> {
  if (verify === "secret") return { "X-Webhook-Secret": SECRET };
  if (verify === "signature") return { "X-Signature": "sha256=" + createHmac("sha256", SECRET).update(raw).digest("hex") };
  const seconds = Math.floor(Date.now() / 1000) - secondsAgo;
  const webhookId = `m-${id}`;
  const mac = createHmac("sha256", Buffer.from(WHSEC.slice(6), "base64"))
    .update(`${webhookId}.${seconds}.`)
    .update(raw)
    .digest("base64");
  return { "webhook-id": webhookId, "webhook-timestamp": String(seconds), "webhook-signature": `v1,${mac}` };
}

function cut(raw: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => (raw.length === 0 ? 0 : c % raw.length)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let from = 0;
  for (const point of points) {
    if (point > from) pieces.push(raw.subarray(from, point));
    from = Math.max(from, point);
  }
  pieces.push(raw.subarray(from));
  return pieces;
}

for (const verify of ["secret", "signature", "standard-webhooks"] as const) {
  describe(`callback in, property over headers and transfer (verify ${verify})`, function () {
    this.timeout(120_000);
    const emitted = new Map<string, number>();
    let url = "";
    let server: http.Server | undefined;
    let counter = 0;
    before(() => helper.startServer());
    after(() => helper.stopServer());
    before(async () => {
      let app: Application | undefined;
      await helper.load(
        [(RED: { httpNode: Application }) => (app = RED.httpNode), callbackIn],
        [
          { id: "in", type: "agent-callback-in", url: "/h", verify, maxBody: 4, rateLimit: 0, wires: [["c"], ["c"], ["c"]] },
          { id: "c", type: "helper" },
        ],
        { in: { secret: verify === "standard-webhooks" ? WHSEC : SECRET } },
      );
      helper.getNode("c").on("input", (msg) => {
        const id = (msg as { payload: { execution_id: string } }).payload.execution_id;
        emitted.set(id, (emitted.get(id) ?? 0) + 1);
      });
      const listening = http.createServer(app);
      server = listening;
      await new Promise<void>((resolve) => listening.listen(0, "127.0.0.1", resolve));
      const address = listening.address() as AddressInfo;
      url = `http://127.0.0.1:${address.port}/h`;
    });
    after(async () => {
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      await helper.unload();
    });

    function plan(p: PlanInput): Planned {
      const id = `h-${verify}-${counter++}`;
      let payload: Record<string, unknown> = { ...samplePayload(), execution_id: id, agent_loop_name: p.name };
      if (p.mutation === "schema") payload = { ...payload, status: "done" };
      if (p.mutation === "long-id") payload = { ...payload, agent_loop_id: "l".repeat(257) };
      if (p.mutation === "too-large") payload = { ...payload, pad: "p".repeat(5000) };
      let raw = Buffer.from(JSON.stringify(payload), p.mutation === "latin1" ? "latin1" : "utf8");
      if (p.mutation === "gzip") raw = gzipSync(raw);
      const auth = authHeaders(verify, raw, id, p.mutation === "stale" ? 3600 : 0);
      if (p.mutation === "tampered") raw = Buffer.concat([raw.subarray(0, raw.length - 1), Buffer.from("]")]);
      const headers: Record<string, string | string[]> = {};
      for (const [name, value] of p.extra) {
        const existing = headers[name];
        headers[name] = existing === undefined ? value : ([] as string[]).concat(existing, value);
      }
      headers["Content-Type"] = p.mutation === "latin1" ? "application/json; charset=iso-8859-1" : p.charsetVariant;
      if (p.mutation === "text-type") headers["Content-Type"] = "text/plain";
      if (p.mutation === "no-type") delete headers["Content-Type"];
      if (p.mutation === "gzip") headers["Content-Encoding"] = "gzip";
      for (const [name, value] of Object.entries(auth)) {
        if (p.mutation === "no-auth") continue;
        // Hex is read either case: a signature ending in "aa" made to end in "AA" would still be right.
        if (p.mutation === "wrong-auth") headers[name] = value.slice(0, -2) + (value.toLowerCase().endsWith("aa") ? "BB" : "AA");
        else if (p.mutation === "duplicate-auth") headers[name] = [value.slice(0, -1) + "x", value];
        else headers[name] = value;
      }
      if (!p.chunked) headers["Content-Length"] = String(raw.length);
      // Repeated auth headers are joined by Node.js into one value that matches nothing; a stale timestamp only matters to Standard Webhooks.
      const genuine = p.mutation === "none" || p.mutation === "replay" || (p.mutation === "stale" && verify !== "standard-webhooks");
      return { headers, pieces: cut(raw, p.cuts), chunked: p.chunked, id, genuine };
    }

    it("holds for random header sets, repeated headers, encodings, charsets and chunked bodies", async () => {
      const genuineIds = new Set<string>();
      await fc.assert(
        fc.asyncProperty(fc.array(requestPlan, { minLength: 1, maxLength: 4 }), async (plans) => {
          for (const p of plans) {
            const planned = plan(p);
            const sends = p.mutation === "replay" ? 2 : 1;
            for (let i = 0; i < sends; i++) {
              const reply = await rawPost({ url, headers: planned.headers, body: planned.pieces });
              const context = JSON.stringify({ mutation: p.mutation, status: reply.status, text: reply.text.slice(0, 200) });
              assert.ok(reply.status < 500 || reply.status === 503, context);
              if (planned.genuine) assert.equal(reply.status, 200, context);
              else assert.notEqual(reply.status, 200, context);
            }
            if (planned.genuine) genuineIds.add(planned.id);
          }
        }),
        { numRuns: 60 },
      );
      await new Promise((resolve) => setTimeout(resolve, 200));
      const wrong = [...emitted].filter(([id, count]) => !genuineIds.has(id) || count !== 1);
      assert.deepEqual(wrong, []);
      assert.deepEqual(
        [...genuineIds].filter((id) => !emitted.has(id)),
        [],
      );
      assert.ok(genuineIds.size > 0);
    });
  });
}
