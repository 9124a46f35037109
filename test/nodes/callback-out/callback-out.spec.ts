// callback out in a real Node-RED runtime (node-red-node-test-helper), delivering to real HTTP
// receivers on 127.0.0.1.
import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Webhook } from "standardwebhooks";
import callbackOut from "../../../nodes/callback-out";
import { samplePayload } from "../../../nodes/lib/shared/payload";
import { freePort, nodeRedDir } from "../../support/node-red";
import { Receiver } from "../../support/receiver";
import { helper, type HelperNode as HelperNodeOf } from "../../support/test-helper";

// Core catch node of the Node-RED under test: errors reported with done(err) reach it as in a real flow.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- resolved at run time from the Node-RED under test (NODE_RED_PACKAGE)
const catchNode: unknown = require(require.resolve("@node-red/nodes/core/common/25-catch.js", { paths: [nodeRedDir()] }));
// Core function node: a payload it builds is an object of another realm (its vm context).
// eslint-disable-next-line @typescript-eslint/no-require-imports -- resolved at run time from the Node-RED under test (NODE_RED_PACKAGE)
const functionNode: unknown = require(require.resolve("@node-red/nodes/core/function/10-function.js", { paths: [nodeRedDir()] }));

interface Msg {
  payload?: unknown;
  statusCode?: number;
  headers?: Record<string, unknown>;
  callback?: Record<string, unknown>;
  attempts?: number;
  error?: unknown;
  topic?: unknown;
  [key: string]: unknown;
}

type HelperNode = HelperNodeOf<Msg>;

function resolveCatchNode(): unknown {
  if (catchNode) return catchNode;
  throw new Error("catch node not found");
}

/** Collects what arrives on a helper node, so tests can wait for the n-th msg. */
class Collector {
  readonly msgs: Msg[] = [];
  private waiters: Array<() => void> = [];
  constructor(node: HelperNode) {
    node.on("input", (msg) => {
      this.msgs.push(msg);
      for (const waiter of [...this.waiters]) waiter();
    });
  }
  next(n = 1, timeoutMs = 20_000): Promise<Msg[]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${n} msg(s), got ${this.msgs.length}`)), timeoutMs);
      const check = (): void => {
        if (this.msgs.length >= n) {
          clearTimeout(timer);
          this.waiters = this.waiters.filter((w) => w !== check);
          resolve(this.msgs.slice(0, n));
        }
      };
      this.waiters.push(check);
      check();
    });
  }
}

/** Waits until a status shown so far matches. */
async function pollStatus(
  statuses: Array<{ fill?: string; text?: string }>,
  match: (s: { fill?: string; text?: string }) => boolean,
): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!statuses.some(match)) {
    if (Date.now() > deadline) throw new Error(`no such status: ${JSON.stringify(statuses)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("callback out node", function () {
  let receiver: Receiver;
  let userDir: string;

  before(() => helper.startServer());
  after(() => helper.stopServer());

  beforeEach(async () => {
    userDir = mkdtempSync(path.join(tmpdir(), "co-user-"));
    helper.settings({ userDir });
    receiver = await new Receiver().start();
  });

  afterEach(async () => {
    await helper.unload();
    await receiver.stop();
    rmSync(userDir, { recursive: true, force: true });
  });

  interface Loaded {
    delivered: Collector;
    gaveUp: Collector;
    caught: Collector;
    input: HelperNode;
  }

  async function load(props: Record<string, unknown>, credentials: Record<string, string> = {}): Promise<Loaded> {
    const flow = [
      {
        id: "out",
        type: "agent-callback-out",
        z: "f1",
        url: receiver.url,
        agentLoopId: "loop_test",
        agentLoopName: "Test loop",
        wires: [["delivered"], ["gaveUp"]],
        ...props,
      },
      { id: "catcher", type: "catch", z: "f1", scope: null, wires: [["caught"]] },
      { id: "delivered", type: "helper", z: "f1" },
      { id: "gaveUp", type: "helper", z: "f1" },
      { id: "caught", type: "helper", z: "f1" },
      { id: "f1", type: "tab" },
    ];
    await helper.load([callbackOut, resolveCatchNode()], flow, { out: credentials });
    return {
      delivered: new Collector(helper.getNode("delivered") as HelperNode),
      gaveUp: new Collector(helper.getNode("gaveUp") as HelperNode),
      caught: new Collector(helper.getNode("caught") as HelperNode),
      input: helper.getNode("out") as HelperNode,
    };
  }

  it("sends a string output as the seed's payload and emits the reply on output 1", async () => {
    const { input, delivered } = await load({});
    input.receive({ payload: "Sales Report for January 15, 2024", topic: "daily" });
    const [msg] = await delivered.next();
    assert.equal(receiver.requests.length, 1);
    const sent = receiver.requests[0]!.json;
    assert.deepEqual(Object.keys(sent), ["agent_loop_id", "agent_loop_name", "execution_id", "status", "result", "metadata", "error"]);
    assert.equal(sent.agent_loop_id, "loop_test");
    assert.equal(sent.agent_loop_name, "Test loop");
    assert.match(String(sent.execution_id), /^exec_[0-9a-f]{20}$/);
    assert.equal(sent.status, "completed");
    assert.deepEqual(sent.result, { output: "Sales Report for January 15, 2024", iterations_used: null, tool_calls: null });
    assert.equal(sent.error, null);
    const metadata = sent.metadata as Record<string, unknown>;
    assert.ok(!Number.isNaN(Date.parse(String(metadata.completed_at))));
    assert.deepEqual([metadata.started_at, metadata.duration_seconds, metadata.model, metadata.tokens_used], [null, null, null, null]);

    assert.deepEqual(msg!.payload, { received: true });
    assert.equal(msg!.statusCode, 200);
    assert.equal(msg!.attempts, 1);
    assert.deepEqual(msg!.callback, sent);
    assert.equal(msg!.topic, "daily");
    assert.ok(msg!.headers && typeof msg!.headers === "object");
  });

  it("sends the seed's sample payload byte for byte, and a Catch msg as failed", async () => {
    const { input, delivered } = await load({});
    input.receive({ payload: samplePayload() });
    await delivered.next(1);
    assert.equal(receiver.requests[0]!.body, JSON.stringify(samplePayload()));
    input.receive({ payload: { some: "thing" }, error: { message: "Tool call failed: HTTP 500 from API", source: { id: "x" } } });
    await delivered.next(2);
    const failed = receiver.requests[1]!.json;
    assert.equal(failed.status, "failed");
    assert.equal(failed.result, null);
    assert.equal(failed.error, "Tool call failed: HTTP 500 from API");
    input.receive({
      payload: {
        status: "timeout",
        result: { output: "Partial result..." },
        error: "Execution timeout after 300 seconds",
        agent_loop_id: "loop_given",
      },
    });
    await delivered.next(3);
    const timeout = receiver.requests[2]!.json;
    assert.equal(timeout.status, "timeout");
    assert.equal(timeout.agent_loop_id, "loop_given");
    assert.deepEqual(timeout.result, { output: "Partial result..." });
  });

  it("sends a payload object built in a core Function node as given (failed, with its error)", async () => {
    const flow = [
      {
        id: "fn",
        type: "function",
        z: "f1",
        func: 'msg.payload = { agent_loop_id: "loop_fn", execution_id: "exec_fn_1", status: "failed", error: "Tool call failed: " + msg.payload };\nreturn msg;',
        outputs: 1,
        wires: [["out"]],
      },
      {
        id: "out",
        type: "agent-callback-out",
        z: "f1",
        url: receiver.url,
        agentLoopName: "From a function",
        wires: [["delivered"], ["gaveUp"]],
      },
      { id: "catcher", type: "catch", z: "f1", scope: null, wires: [["caught"]] },
      { id: "delivered", type: "helper", z: "f1" },
      { id: "gaveUp", type: "helper", z: "f1" },
      { id: "caught", type: "helper", z: "f1" },
      { id: "f1", type: "tab" },
    ];
    await helper.load([callbackOut, resolveCatchNode(), functionNode], flow);
    const delivered = new Collector(helper.getNode("delivered") as HelperNode);
    const caught = new Collector(helper.getNode("caught") as HelperNode);
    (helper.getNode("fn") as HelperNode).receive({ payload: "HTTP 500 from API" });
    const [msg] = await delivered.next();
    assert.equal(caught.msgs.length, 0);
    assert.equal(receiver.requests.length, 1);
    const sent = receiver.requests[0]!.json;
    assert.deepEqual(Object.keys(sent), ["agent_loop_id", "agent_loop_name", "execution_id", "status", "result", "metadata", "error"]);
    assert.equal(sent.agent_loop_id, "loop_fn");
    assert.equal(sent.agent_loop_name, "From a function");
    assert.equal(sent.execution_id, "exec_fn_1");
    assert.equal(sent.status, "failed");
    assert.equal(sent.error, "Tool call failed: HTTP 500 from API");
    assert.equal(sent.result, null, "the payload object is used as given, not stringified into result.output");
    assert.deepEqual(msg!.callback, sent);
  });

  it("gives the input msg's other properties back on both outputs, with payload and error replaced", async () => {
    receiver.replies.push(receiver.defaultReply, { status: 410 });
    const { input, delivered, gaveUp } = await load({});
    input.receive({ payload: "one", topic: "t1", ticket: "T-1", _msgid: "m-1" });
    const [ok] = await delivered.next();
    assert.deepEqual([ok!.topic, ok!.ticket, ok!._msgid, ok!.payload, "error" in ok!], ["t1", "T-1", "m-1", { received: true }, false]);
    input.receive({ payload: "two", ticket: "T-2", error: { message: "earlier" }, _msgid: "m-2" });
    const [gone] = await gaveUp.next();
    assert.deepEqual([gone!.ticket, gone!._msgid, gone!.statusCode], ["T-2", "m-2", 410]);
    assert.match(String(gone!.error), /HTTP 410/);
  });

  it("sends the configured headers (with ${ENV_VAR}), User-Agent, secret and bearer token", async () => {
    process.env.CALLBACK_OUT_TEST_TOKEN = "from-env";
    const { input, delivered } = await load(
      {
        headers: [
          { name: "X-Custom-Header", value: "value" },
          { name: "X-From-Env", value: "Bearer ${CALLBACK_OUT_TEST_TOKEN}!" },
        ],
        secretHeader: "X-My-Secret",
      },
      { secret: "s3cret", token: "tok-123" },
    );
    input.receive({ payload: "x" });
    await delivered.next();
    const headers = receiver.requests[0]!.headers;
    assert.equal(headers["content-type"], "application/json");
    assert.equal(
      headers["user-agent"],
      `node-red-contrib-agent-callback/${(JSON.parse(readFileSync("package.json", "utf8")) as { version: string }).version}`,
    );
    assert.equal(headers["x-custom-header"], "value");
    assert.equal(headers["x-from-env"], "Bearer from-env!");
    assert.equal(headers["x-my-secret"], "s3cret");
    assert.equal(headers.authorization, "Bearer tok-123");
    delete process.env.CALLBACK_OUT_TEST_TOKEN;
  });

  it("signs the exact body with HMAC-SHA256 in X-Signature", async () => {
    const { input, delivered } = await load({ signature: "hmac-sha256" }, { signingKey: "hmac-key" });
    input.receive({ payload: "signed" });
    await delivered.next();
    const { headers, body } = receiver.requests[0]!;
    assert.equal(headers["x-signature"], `sha256=${createHmac("sha256", "hmac-key").update(body).digest("hex")}`);
  });

  it("signs with Standard Webhooks, verified by the standardwebhooks package", async () => {
    const key = `whsec_${randomBytes(24).toString("base64")}`;
    const { input, delivered } = await load({ signature: "standard-webhooks" }, { signingKey: key });
    input.receive({ payload: "signed" });
    await delivered.next();
    const { headers, body, json } = receiver.requests[0]!;
    assert.equal(headers["webhook-id"], json.execution_id);
    const verified = new Webhook(key).verify(body, {
      "webhook-id": String(headers["webhook-id"]),
      "webhook-timestamp": String(headers["webhook-timestamp"]),
      "webhook-signature": String(headers["webhook-signature"]),
    });
    assert.deepEqual(verified, json);
  });

  it("retries 500 twice and delivers on attempt 3 with one execution_id and the same body", async () => {
    receiver.replies = [{ status: 500 }, { status: 500, body: "busy" }];
    const { input, delivered, gaveUp } = await load({ retrySchedule: [0.05, 0.1, 0.1] });
    input.receive({ payload: "retry me" });
    const [msg] = await delivered.next();
    assert.equal(msg!.attempts, 3);
    assert.equal(msg!.statusCode, 200);
    assert.equal(receiver.requests.length, 3);
    assert.equal(new Set(receiver.requests.map((r) => r.body)).size, 1, "the same bytes on every attempt");
    assert.equal(new Set(receiver.requests.map((r) => r.json.execution_id)).size, 1);
    assert.equal(gaveUp.msgs.length, 0);
  });

  it("with agentCallbackOutBodyMemoryMB: 0 reads every body back from the outbox, the same bytes on every attempt", async () => {
    helper.settings({ userDir, agentCallbackOutBodyMemoryMB: 0 });
    receiver.replies = [{ status: 503 }, { status: 503 }, { status: 503 }];
    const { input, delivered, gaveUp } = await load({ retrySchedule: [0.05, 0.1], concurrency: 2 });
    const outputs = Array.from({ length: 20 }, (_, i) => `é✓ ${i} ${"x".repeat(50_000 + i)}`);
    for (const output of outputs) input.receive({ payload: output });
    const msgs = await delivered.next(20);
    const bodiesById = new Map<string, Set<string>>();
    for (const request of receiver.requests) {
      const id = String(request.json.execution_id);
      bodiesById.set(id, (bodiesById.get(id) ?? new Set()).add(request.body));
    }
    assert.equal(bodiesById.size, 20);
    for (const bodies of bodiesById.values()) assert.equal(bodies.size, 1, "a retry sends the bytes of the first attempt");
    assert.equal(receiver.requests.length, 23, "20 callbacks, 3 of them retried once");
    const sent = [...bodiesById.values()].map(
      (bodies) => (JSON.parse([...bodies][0] as string) as { result: { output: string } }).result.output,
    );
    assert.deepEqual(sent.sort(), [...outputs].sort());
    // The output msg's callback is the body as sent, read back from disk too.
    assert.deepEqual(msgs.map((m) => (m.callback as { result: { output: string } }).result.output).sort(), [...outputs].sort());
    assert.equal(gaveUp.msgs.length, 0);
  });

  it("warns once and keeps the default when agentCallbackOutBodyMemoryMB is not a number", async () => {
    helper.settings({ userDir, agentCallbackOutBodyMemoryMB: "lots" });
    const { input, delivered } = await load({});
    input.receive({ payload: "still delivered" });
    await delivered.next();
    const warnings = (helper as unknown as { log(): { args: Array<[{ level: number; msg: unknown }]>; WARN: number } }).log();
    const texts = warnings.args.filter(([e]) => e.level === warnings.WARN).map(([e]) => String(e.msg));
    assert.equal(texts.filter((m) => m.includes("agentCallbackOutBodyMemoryMB")).length, 1, JSON.stringify(texts));
    assert.match(texts.find((m) => m.includes("agentCallbackOutBodyMemoryMB")) ?? "", /"lots" is not a number >= 0; using 8 MB/);
  });

  it("gives up at once on 400 without retry4xx, and retries it with retry4xx", async () => {
    receiver.replies = [{ status: 400, headers: { "Content-Type": "application/json" }, body: '{"error":"bad"}' }];
    const first = await load({ retry4xx: false, retrySchedule: [0.05, 0.05] });
    first.input.receive({ payload: "x" });
    const [msg] = await first.gaveUp.next();
    assert.equal(msg!.statusCode, 400);
    assert.equal(msg!.attempts, 1);
    assert.deepEqual(msg!.payload, { error: "bad" });
    assert.match(String(msg!.error), /HTTP 400/);
    assert.equal(receiver.requests.length, 1);
    await helper.unload();

    receiver.replies = [{ status: 400 }, { status: 404 }];
    const second = await load({ retry4xx: true, retrySchedule: [0.05, 0.05] });
    second.input.receive({ payload: "y" });
    const [ok] = await second.delivered.next();
    assert.equal(ok!.attempts, 3);
  });

  it("never retries 410", async () => {
    receiver.replies = [{ status: 410 }];
    const { input, gaveUp } = await load({ retry4xx: true, retrySchedule: [0.05, 0.05] });
    input.receive({ payload: "x" });
    const [msg] = await gaveUp.next();
    assert.equal(msg!.statusCode, 410);
    assert.equal(msg!.attempts, 1);
    assert.equal(receiver.requests.length, 1);
  });

  it("does not follow redirects: a 3xx is given up", async () => {
    receiver.replies = [{ status: 302, headers: { Location: "http://127.0.0.1:1/elsewhere" } }];
    const { input, gaveUp } = await load({ retrySchedule: [0.05] });
    input.receive({ payload: "x" });
    const [msg] = await gaveUp.next();
    assert.equal(msg!.statusCode, 302);
    assert.equal(receiver.requests.length, 1);
  });

  it("honours 429 Retry-After when it asks for more than the schedule", async () => {
    receiver.replies = [{ status: 429, headers: { "Retry-After": "1" } }];
    const { input, delivered } = await load({ retrySchedule: [0.05] });
    input.receive({ payload: "x" });
    const [msg] = await delivered.next();
    assert.equal(msg!.attempts, 2);
    const gap = receiver.requests[1]!.at - receiver.requests[0]!.at;
    // Lower bound only: the schedule alone would have retried after about 0.05 s.
    assert.ok(gap >= 900, `second attempt came ${gap} ms after the first`);
  });

  it("times out a receiver that does not answer, then gives up when the schedule is exhausted", async () => {
    receiver.replies = ["hang", "hang"];
    const { input, gaveUp } = await load({ timeout: 0.3, retrySchedule: [0.05] });
    input.receive({ payload: "x" });
    const [msg] = await gaveUp.next();
    assert.equal(msg!.attempts, 2);
    assert.equal(msg!.statusCode, undefined);
    assert.match(String(msg!.error), /timeout/);
    assert.equal(receiver.requests.length, 2);
  });

  it("retries a refused connection and reports it on output 2 when the schedule is exhausted", async () => {
    const port = await freePort();
    const { input, gaveUp, delivered } = await load({ url: `http://127.0.0.1:${port}/nobody`, retrySchedule: [0.05, 0.05] });
    input.receive({ payload: "x" });
    const [msg] = await gaveUp.next();
    assert.equal(msg!.attempts, 3);
    assert.match(String(msg!.error), /ECONNREFUSED/);
    assert.equal((msg!.callback as Record<string, unknown>).status, "completed");
    assert.equal(delivered.msgs.length, 0);
  });

  it("with Agent loop ID empty, sends the node's name as agent_loop_id, else its id", async () => {
    const named = await load({ agentLoopId: "", name: "Nightly report" });
    named.input.receive({ payload: "first" });
    await named.delivered.next();
    assert.equal(receiver.requests[0]!.json.agent_loop_id, "Nightly report");
    await helper.unload();
    const unnamed = await load({ agentLoopId: "" });
    unnamed.input.receive({ payload: "second" });
    await unnamed.delivered.next();
    assert.equal(receiver.requests[1]!.json.agent_loop_id, "out");
  });

  it("reports a msg refused for its content to a Catch node, field and fix first, and in the node status", async () => {
    const { input, caught } = await load({});
    const statuses: Array<{ fill?: string; text?: string }> = [];
    helper.getNode("out").on("call:status", (call) => statuses.push(call.args[0] as { fill?: string; text?: string }));
    input.receive({ payload: { agent_loop_id: 42, status: "completed" } });
    const [msg] = await caught.next();
    const first = (msg!.error as { message: string }).message.split("\n")[0]!;
    assert.match(first, /^(Error: )?msg\.payload\.agent_loop_id: .*Nothing was sent\. Set msg\.payload\.agent_loop_id .*"Agent loop ID"/);
    await pollStatus(statuses, (s) => s.text === "msg refused: msg.payload.agent_loop_id" && s.fill === "red");
    input.receive({ payload: { status: "done", agent_loop_id: "l" } });
    const [, second] = await caught.next(2);
    assert.match(
      (second!.error as { message: string }).message,
      /^(Error: )?msg\.payload\.status: expected one of completed, failed, timeout.*Fix msg\.payload\.status/,
    );
    await pollStatus(statuses, (s) => s.text === "msg refused: msg.payload.status");
    assert.equal(receiver.requests.length, 0);
    // A msg taken again clears the refusal from the status.
    input.receive({ payload: "fine" });
    await pollStatus(statuses, (s) => s.text === "delivered 200");
  });

  it("reports a payload that cannot be serialised (circular) as that msg's error", async () => {
    const { input, caught, delivered } = await load({});
    const circular: Record<string, unknown> = { name: "loop" };
    circular.self = circular;
    input.receive({ payload: circular });
    const [msg] = await caught.next();
    assert.match((msg!.error as { message: string }).message, /Invalid callback payload, nothing sent: .*circular/i);
    input.receive({ payload: "still working" });
    await delivered.next();
    assert.equal(receiver.requests.length, 1);
  });

  it("uses msg.url when the node has none, and says so when neither is set", async () => {
    const { input, delivered, caught } = await load({ url: "", allowedOrigins: [new URL(receiver.url).origin] });
    input.receive({ payload: "x", url: `${receiver.url}?from=msg` });
    await delivered.next();
    assert.equal(receiver.requests.length, 1);
    input.receive({ payload: "y" });
    const [msg] = await caught.next();
    assert.match((msg!.error as { message: string }).message, /msg\.url/);
    input.receive({ payload: "z", url: "ftp://127.0.0.1/x" });
    const [, bad] = await caught.next(2);
    assert.match((bad!.error as { message: string }).message, /not an http/);
  });

  it("with msg.url each allowed origin pauses on its own: the failing one is paused, the other keeps delivering", async () => {
    const other = await new Receiver().start();
    try {
      receiver.defaultReply = { status: 503, body: "down" };
      const origins = [new URL(receiver.url).origin, new URL(other.url).origin];
      const { input, delivered } = await load({ url: "", allowedOrigins: origins, pauseAfter: 2, pauseFor: 60, concurrency: 1 });
      for (let i = 0; i < 4; i++) input.receive({ payload: `a${i}`, url: `${receiver.url}/a` });
      await receiver.count(2);
      const said = (): string => JSON.stringify(helper.log().args);
      for (let i = 0; i < 50 && !said().includes("paused after 2 failed attempts"); i++) await new Promise((r) => setTimeout(r, 20));
      assert.match(said(), new RegExp(`Receiver ${origins[0]} paused after 2 failed attempts`));
      for (let i = 0; i < 3; i++) input.receive({ payload: `b${i}`, url: `${other.url}/b` });
      await delivered.next(3);
      assert.equal(other.requests.length, 3, "the other origin is not paused");
      assert.equal(receiver.requests.length, 2, "nothing more to the paused one before its test (pauseFor 60 s)");
      assert.doesNotMatch(said(), new RegExp(`Receiver ${origins[1]} paused`));
    } finally {
      await other.stop();
    }
  });

  it("refuses msgs past maxQueue with a clear error, dropping nothing already queued", async () => {
    receiver.defaultReply = "hang";
    const { input, caught, delivered } = await load({ maxQueue: 2, timeout: 60, retrySchedule: [] });
    input.receive({ payload: "1" });
    input.receive({ payload: "2" });
    input.receive({ payload: "3" });
    const [msg] = await caught.next();
    assert.match((msg!.error as { message: string }).message, /Queue full: 2 callbacks/);
    await receiver.count(2);
    const journal = path.join(userDir, "agent-callback-outbox", "out.jsonl");
    assert.equal(readFileSync(journal, "utf8").trim().split("\n").length, 2);
    assert.deepEqual(receiver.requests.map((r) => (r.json.result as { output: string }).output).sort(), ["1", "2"]);
    assert.equal(delivered.msgs.length, 0);
  });

  it("journals each callback under the user directory and removes it once delivered", async () => {
    const { input, delivered } = await load({});
    for (let i = 0; i < 20; i += 1) input.receive({ payload: `n${i}` });
    await delivered.next(20);
    const journal = path.join(userDir, "agent-callback-outbox", "out.jsonl");
    assert.ok(existsSync(journal));
    const pendingInJournal = (): number => {
      const live = new Set<string>();
      for (const line of readFileSync(journal, "utf8").split("\n").filter(Boolean)) {
        const record = JSON.parse(line) as { op: string; id?: string; entry?: { id: string } };
        if (record.op === "add" && record.entry) live.add(record.entry.id);
        if (record.op === "done" && record.id) live.delete(record.id);
      }
      return live.size;
    };
    // "done" records follow the outputs in the next group commit: wait for it, generously.
    const deadline = Date.now() + 20_000;
    while (pendingInJournal() > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(pendingInJournal(), 0);
    assert.equal(new Set(receiver.requests.map((r) => r.json.execution_id)).size, 20);
  });

  it("reports a configuration error naming the field", async () => {
    const { input, caught } = await load({ signature: "hmac-sha256" });
    input.receive({ payload: "x" });
    const [msg] = await caught.next();
    assert.match((msg!.error as { message: string }).message, /Signing key/);
    assert.equal(receiver.requests.length, 0);
  });

  it("warns about a bad number, shows it in the status and runs with the default", async () => {
    const statuses: Array<{ fill?: string; shape?: string; text?: string }> = [];
    const { input, delivered } = await load({ timeout: "soon" });
    (helper.getNode("out") as { on(event: string, fn: (call: { args: unknown[] }) => void): void }).on("call:status", (call) => {
      statuses.push(call.args[0] as { fill?: string; text?: string });
    });
    const deadline = Date.now() + 5000;
    while (statuses.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(statuses.at(-1), { fill: "yellow", shape: "ring", text: "timeout: bad value, using 15" });
    const warnings = (helper as unknown as { log(): { args: Array<[{ level: number; msg: unknown }]>; WARN: number } }).log();
    const texts = warnings.args.filter(([e]) => e.level === warnings.WARN).map(([e]) => String(e.msg));
    assert.ok(
      texts.some((m) => m.includes('timeout: "soon" is not a valid value; using the default 15')),
      JSON.stringify(texts),
    );
    input.receive({ payload: "still delivered" });
    const [msg] = await delivered.next();
    assert.equal(msg!.statusCode, 200);
  });

  it("shows what is happening now in the node status", async () => {
    const statuses: Array<{ fill?: string; text?: string }> = [];
    const watch = (): void => {
      helper.getNode("out").on("call:status", (call) => {
        statuses.push(call.args[0] as { fill?: string; text?: string });
      });
    };
    const seen = async (pattern: RegExp): Promise<void> => {
      const deadline = Date.now() + 20_000;
      while (!statuses.some((s) => pattern.test(s.text ?? ""))) {
        if (Date.now() > deadline) throw new Error(`no status matching ${pattern}: ${JSON.stringify(statuses)}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };

    receiver.defaultReply = "hang";
    await load({ concurrency: 1, timeout: 60 });
    watch();
    const out = helper.getNode("out") as HelperNode;
    for (let i = 0; i < 3; i += 1) out.receive({ payload: `q${i}` });
    await seen(/^sending, queued 2$/);
    await helper.unload();

    // A fresh user directory per stage: otherwise the journal left by the stage before resumes (as it should).
    const freshUserDir = (): void => {
      helper.settings({ userDir: mkdtempSync(path.join(userDir, "stage-")) });
    };
    freshUserDir();
    receiver.defaultReply = { status: 500 };
    await load({ retrySchedule: [600] });
    watch();
    (helper.getNode("out") as HelperNode).receive({ payload: "later" });
    await seen(/^retry 1 of 1 at (\w{3} \d{2} )?\d{2}:\d{2}:\d{2}$/);
    await helper.unload();

    freshUserDir();
    receiver.defaultReply = { status: 410 };
    const gone = await load({});
    watch();
    gone.input.receive({ payload: "gone" });
    await gone.gaveUp.next();
    await seen(/^gave up 410$/);
    assert.equal(statuses.find((s) => s.text === "gave up 410")?.fill, "red");
    await helper.unload();

    freshUserDir();
    receiver.defaultReply = { status: 200 };
    const fine = await load({});
    watch();
    fine.input.receive({ payload: "fine" });
    await fine.delivered.next();
    await seen(/^delivered 200$/);
  });

  it("'send test' posts the sample payload with the node's headers and returns the reply", async () => {
    await load({ signature: "hmac-sha256", headers: [{ name: "X-Custom-Header", value: "v" }] }, { signingKey: "k", secret: "s" });
    const res = await helper.request().post("/agent-callback-out/out/test").expect(200);
    const reply = res.body as { statusCode: number; payload: unknown; url: string };
    assert.equal(reply.statusCode, 200);
    assert.deepEqual(reply.payload, { received: true });
    assert.equal(reply.url, receiver.url);
    const { headers, body, json } = receiver.requests[0]!;
    const { execution_id: id, ...rest } = json;
    const { execution_id: _sampleId, ...sampleRest } = samplePayload();
    assert.deepEqual(rest, sampleRest);
    assert.match(String(id), /^exec_test_/);
    assert.equal(headers["x-custom-header"], "v");
    assert.equal(headers["x-webhook-secret"], "s");
    assert.equal(headers["x-signature"], `sha256=${createHmac("sha256", "k").update(body).digest("hex")}`);
    await helper.request().post("/agent-callback-out/nope/test").expect(404);
  });
});
