// Receiver without Node-RED: a plain node:http server on 127.0.0.1 feeds it, as a server of our
// own would.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { DedupeMemory } from "../../../nodes/lib/receive/dedupe";
import { Receiver, type ReceivedMessage, type RejectCause } from "../../../nodes/lib/receive/receiver";
import { readSettings, type CallbackInConfig } from "../../../nodes/lib/receive/settings";
import { samplePayload } from "../../../nodes/lib/shared/payload";
import { RequestLog } from "../../../nodes/lib/receive/request-log";

interface Harness {
  url: string;
  messages: Array<{ output: number; msg: ReceivedMessage }>;
  firstRejections: Array<{ cause: RejectCause; status: number }>;
  errors: unknown[];
  receiver: Receiver;
  close(): Promise<void>;
}

async function start(
  config: CallbackInConfig,
  secret = "s3cret",
  onMessage?: (msg: ReceivedMessage) => void,
  requestLog?: RequestLog,
): Promise<Harness> {
  const { settings } = readSettings(config, secret);
  const messages: Harness["messages"] = [];
  const firstRejections: Harness["firstRejections"] = [];
  const errors: unknown[] = [];
  const receiver = new Receiver({
    settings,
    dedupe: new DedupeMemory(settings.dedupeTtlMs),
    ...(requestLog ? { requestLog } : {}),
    events: {
      onMessage: (output, msg) => {
        messages.push({ output, msg });
        onMessage?.(msg);
      },
      onCounts: () => undefined,
      onFirstRejection: (cause, status) => firstRejections.push({ cause, status }),
      onError: (err) => errors.push(err),
    },
  });
  const server = http.createServer((req, res) => receiver.handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    messages,
    firstRejections,
    errors,
    receiver,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function post(url: string, body: string, headers: Record<string, string>): Promise<Response> {
  return fetch(url, { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body });
}

const body = (overrides: Record<string, unknown> = {}): string => JSON.stringify({ ...samplePayload(), ...overrides });

describe("lib/receive/receiver (plain node:http)", () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it("accepts a callback, answers {received:true} and hands it over with its output and topic", async () => {
    h = await start({});
    const res = await post(h.url, body({ status: "failed" }), { "X-Webhook-Secret": "s3cret" });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { received: true });
    assert.equal(h.messages.length, 1);
    assert.equal(h.messages[0]?.output, 1);
    assert.equal(h.messages[0]?.msg.topic, "Daily Sales Report");
    assert.equal(h.messages[0]?.msg.req, undefined);
    assert.equal(h.receiver.accepted, 1);
  });

  it("notes every answered request in the request log, keeping accepted payloads for replay", async () => {
    const log = new RequestLog();
    h = await start({}, "s3cret", undefined, log);
    const text = body({ execution_id: "exec_log_1" });
    assert.equal((await post(h.url, text, { "X-Webhook-Secret": "s3cret" })).status, 200);
    assert.equal((await post(h.url, text, { "X-Webhook-Secret": "s3cret" })).status, 200);
    assert.equal((await post(h.url, text, { "X-Webhook-Secret": "wrong" })).status, 401);
    assert.equal((await post(h.url, "{", { "X-Webhook-Secret": "s3cret" })).status, 400);
    const list = log.list();
    assert.deepEqual(
      list.map((r) => [r.outcome, r.reply, r.executionId ?? null, r.replayable]),
      [
        ["invalid-json", 400, null, false],
        ["wrong-secret", 401, null, false],
        ["duplicate", 200, "exec_log_1", false],
        ["accepted", 200, "exec_log_1", true],
      ],
    );
    assert.match(list[3]!.client, /127\.0\.0\.1/);
    assert.equal(list[3]!.agentLoopName, "Daily Sales Report");
    assert.deepEqual(log.reading(list[3]!.id)?.payload, JSON.parse(text));
  });

  it("refuses in order of cost and reports each cause once", async () => {
    h = await start({ maxBody: 1 });
    assert.equal((await post(h.url, body(), { "Content-Type": "text/plain", "X-Webhook-Secret": "s3cret" })).status, 415);
    assert.equal((await post(h.url, body({ pad: "x".repeat(2048) }), { "X-Webhook-Secret": "s3cret" })).status, 413);
    assert.equal((await post(h.url, body(), { "X-Webhook-Secret": "nope" })).status, 401);
    assert.equal((await post(h.url, body(), { "X-Webhook-Secret": "nope" })).status, 401);
    assert.equal((await post(h.url, "{no", { "X-Webhook-Secret": "s3cret" })).status, 400);
    const schema = await post(h.url, body({ status: "done" }), { "X-Webhook-Secret": "s3cret" });
    assert.deepEqual(await schema.json(), { error: "status: expected one of completed, failed, timeout" });
    assert.deepEqual(
      h.firstRejections.map((r) => `${r.status} ${r.cause}`),
      ["415 unsupported-media-type", "413 too-large", "401 wrong-secret", "400 invalid-json", "400 invalid-payload"],
    );
    assert.equal(h.receiver.rejected, 6);
    assert.equal(h.messages.length, 0);
  });

  it("verifies signatures over the exact raw bytes", async () => {
    h = await start({ verify: "signature" }, "hmac-key");
    const raw = `{"agent_loop_id":"l",  "execution_id":"sig","status":"timeout"}`;
    const sig = "sha256=" + createHmac("sha256", "hmac-key").update(raw).digest("hex");
    assert.equal((await post(h.url, JSON.stringify(JSON.parse(raw)), { "X-Signature": sig })).status, 401);
    assert.equal((await post(h.url, raw, { "X-Signature": sig })).status, 200);
    assert.equal(h.messages[0]?.output, 2);
  });

  it("an address over its allowance of refused requests still gets a valid signature accepted; a bad one or one without room is 429", async () => {
    h = await start({ verify: "signature", rateLimit: 2, maxBody: 64, maxPending: 4 }, "hmac-key");
    const sign = (raw: string): string => "sha256=" + createHmac("sha256", "hmac-key").update(raw).digest("hex");
    const forged = { "X-Signature": "sha256=" + "d".repeat(64) };
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await post(h.url, body({ execution_id: `bad-${i}` }), forged)).status);
    assert.deepEqual(statuses, [401, 401, 429]);
    const raw = body({ execution_id: "genuine" });
    assert.equal((await post(h.url, raw, { "X-Signature": sign(raw) })).status, 200);
    assert.equal((await post(h.url, body({ execution_id: "bad-3" }), forged)).status, 429);
    // A body past maxPending (4 KiB) from an address over its allowance: 429 for the address, not 503.
    const big = body({ execution_id: "big", result: { output: "x".repeat(5000) } });
    assert.equal((await post(h.url, big, forged)).status, 429);
    assert.deepEqual(
      h.messages.map((m) => m.msg.payload.execution_id),
      ["genuine"],
    );
  });

  it("answers a repeated execution_id as a duplicate without handing it over again", async () => {
    h = await start({});
    await post(h.url, body(), { "X-Webhook-Secret": "s3cret" });
    const again = await post(h.url, body(), { "X-Webhook-Secret": "s3cret" });
    assert.deepEqual(await again.json(), { received: true, duplicate: true });
    assert.equal(h.messages.length, 1);
  });

  it("rate limits with 429 and Retry-After", async () => {
    h = await start({ rateLimit: 1 });
    assert.equal((await post(h.url, body(), { "X-Webhook-Secret": "s3cret" })).status, 200);
    const limited = await post(h.url, body({ execution_id: "2" }), { "X-Webhook-Secret": "s3cret" });
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get("retry-after")) >= 1);
  });

  it("respond: flow hands req and a response wrapper over and leaves the answer to the flow", async () => {
    h = await start({ respond: "flow" }, "s3cret", (msg) => {
      const res = (msg.res as { _res: http.ServerResponse })._res;
      res.statusCode = 202;
      res.end("from the flow");
    });
    const res = await post(h.url, body(), { "X-Webhook-Secret": "s3cret" });
    assert.equal(res.status, 202);
    assert.equal(await res.text(), "from the flow");
    assert.ok(h.messages[0]?.msg.req);
  });

  it("answers 500 with nothing of the exception when the owner's code throws", async () => {
    h = await start({}, "s3cret", () => {
      throw new Error("secret detail of the failure");
    });
    const res = await post(h.url, body(), { "X-Webhook-Secret": "s3cret" });
    // The reply was already sent before the message was handed over.
    assert.equal(res.status, 200);
    const flow = await start({ respond: "flow" }, "s3cret", () => {
      throw new Error("secret detail of the failure");
    });
    try {
      const failed = await post(flow.url, body(), { "X-Webhook-Secret": "s3cret" });
      assert.equal(failed.status, 500);
      const text = await failed.text();
      assert.ok(!text.includes("secret detail"), text);
      assert.equal(flow.errors.length, 1);
    } finally {
      await flow.close();
    }
  });
});
