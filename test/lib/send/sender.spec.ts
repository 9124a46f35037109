// The Sender without Node-RED: a real HTTP receiver on 127.0.0.1 and an outbox in a temp folder.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Sender } from "../../../nodes/lib/send/sender";
import type { SenderOptions } from "../../../nodes/lib/send/types";
import { readSettings, type CallbackOutConfig } from "../../../nodes/lib/send/settings";
import type { Finish } from "../../../nodes/lib/send/delivery-queue";
import type { NodeMessage, NodeStatus } from "../../../nodes/lib/shared/node-red-types";
import { Receiver } from "../../support/receiver";
import { Outbox } from "../../../nodes/lib/outbox/outbox";
import { nodeJournalFs, type JournalFs } from "../../../nodes/lib/outbox/journal-fs";
import { JournalLockedError } from "../../../nodes/lib/outbox/journal-lock";

const t = (key: string, substitutions?: Record<string, string | number>): string => `${key} ${JSON.stringify(substitutions ?? {})}`;

interface Run {
  sender: Sender;
  outcomes: Array<{ finish: Finish; msg: NodeMessage }>;
  statuses: NodeStatus[];
  logs: string[];
  journal: string;
}

describe("lib/send/sender", () => {
  let receiver: Receiver;
  let dir: string;
  const running: Sender[] = [];

  beforeEach(async () => {
    receiver = await new Receiver().start();
    dir = mkdtempSync(path.join(tmpdir(), "sender-"));
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((s) => s.close(false)));
    await receiver.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(config: CallbackOutConfig = {}, extra: Partial<SenderOptions> = {}): Promise<Run> {
    const settings = readSettings(
      { url: receiver.url, agentLoopId: "loop_s", ...config },
      { hasSigningKey: false, env: () => "", message: t },
    );
    const run: Omit<Run, "sender"> = { outcomes: [], statuses: [], logs: [], journal: path.join(dir, "outbox", "n1.jsonl") };
    const sender = new Sender({
      settings,
      credentials: { secret: "s3cret" },
      userAgent: "test-agent",
      nodeId: "n1",
      journal: run.journal,
      bodyMemoryBytes: 1024 * 1024,
      t,
      log: { info: (x) => run.logs.push(`info ${x}`), warn: (x) => run.logs.push(`warn ${x}`), error: (x) => run.logs.push(`error ${x}`) },
      onOutcome: (finish, msg) => run.outcomes.push({ finish, msg }),
      onStatus: (status) => run.statuses.push(status),
      statusDelayMs: 5,
      ...extra,
    });
    running.push(sender);
    await sender.start();
    return { sender, ...run };
  }

  async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  it("accepts a msg once it is in the journal, delivers it, and reports the outcome with the input msg", async () => {
    const run = await start();
    await run.sender.accept({ payload: "hello", topic: "t1", ticket: "T-1", _msgid: "m1" });
    // Acknowledged means on disk: the journal holds the add before any delivery is awaited.
    assert.match(readFileSync(run.journal, "utf8"), /"op":"add"/);
    await until("delivered", () => run.outcomes.length === 1);
    const [{ finish, msg }] = run.outcomes as [{ finish: Finish; msg: NodeMessage }];
    assert.equal(finish, "delivered");
    assert.deepEqual([msg.ticket, msg._msgid, msg.topic, msg.statusCode, msg.attempts], ["T-1", "m1", "t1", 200, 1]);
    assert.deepEqual(msg.payload, { received: true });
    const sent = receiver.requests[0]!;
    assert.deepEqual(msg.callback, JSON.parse(sent.body));
    assert.equal(sent.json.agent_loop_id, "loop_s");
    assert.equal(sent.headers["x-webhook-secret"], "s3cret");
    assert.equal(sent.headers["user-agent"], "test-agent");
    await until("status delivered", () => run.statuses.at(-1)?.text === 'status.delivered {"code":"200"}');
    assert.equal(run.sender.pending, 0);
  });

  it("refuses a msg it cannot send with that msg's error, and queues nothing", async () => {
    const run = await start({ url: "", allowedOrigins: [new URL(receiver.url).origin] });
    await assert.rejects(run.sender.accept({ payload: "x" }), /errors\.no-url/);
    await assert.rejects(run.sender.accept({ payload: "x", url: "ftp://h/x" }), /errors\.bad-msg-url/);
    await assert.rejects(run.sender.accept({ payload: { status: "done" }, url: receiver.url }), /errors\.refused-field.*status/);
    const circular: Record<string, unknown> = { status: "completed" };
    circular.self = circular;
    await assert.rejects(run.sender.accept({ payload: { result: circular }, url: receiver.url }), /errors\.invalid-payload/);
    assert.equal(run.sender.pending, 0);
    await run.sender.accept({ payload: "via msg.url", url: receiver.url });
    await until("delivered", () => run.outcomes.length === 1);
    assert.equal(receiver.requests.length, 1);
  });

  it("refuses msgs past maxQueue, dropping nothing queued", async () => {
    receiver.defaultReply = "hang";
    const run = await start({ maxQueue: 2, timeout: 60 });
    await run.sender.accept({ payload: "1" });
    await run.sender.accept({ payload: "2" });
    await assert.rejects(run.sender.accept({ payload: "3" }), /errors\.queue-full \{"max":2\}/);
    assert.equal(run.sender.pending, 2);
  });

  it("retries, then gives up with the error on the msg and a warning", async () => {
    receiver.defaultReply = { status: 503 };
    const run = await start({ retrySchedule: [0.02] });
    await run.sender.accept({ payload: "doomed" });
    await until("gave up", () => run.outcomes.length === 1);
    const [{ finish, msg }] = run.outcomes as [{ finish: Finish; msg: NodeMessage }];
    assert.equal(finish, "gave-up");
    assert.equal(msg.attempts, 2);
    // The cause is the reply in words (errors.reply.server names the code), not a bare "HTTP 503".
    assert.match(String(msg.error), /errors\.gave-up .*"attempts":2,"cause":"errors\.reply\.server \{\\"code\\":503\}"/);
    assert.ok(run.logs.some((l) => l.startsWith("warn errors.gave-up")));
    assert.equal(receiver.requests.length, 2);
    assert.equal(new Set(receiver.requests.map((r) => r.body)).size, 1, "the same bytes on both attempts");
  });

  it("builds no msg for a delivery nobody listens for", async () => {
    const run = await start({}, { wantsDelivered: () => false });
    await run.sender.accept({ payload: "unheard" });
    await receiver.count(1);
    await until("settled", () => run.sender.pending === 0);
    assert.equal(run.outcomes.length, 0);
  });

  it("resumes what the journal holds after a close, with a fresh msg carrying the topic", async () => {
    receiver.defaultReply = { status: 500 };
    const first = await start({ retrySchedule: [1] });
    await first.sender.accept({ payload: "kept", topic: "again", ticket: "lost on restart" });
    await receiver.count(1);
    await until("retry journaled", () => readFileSync(first.journal, "utf8").includes('"op":"retry"'));
    await first.sender.close(true);
    assert.ok(first.logs.some((l) => l.startsWith('warn log.kept-removed {"count":1,') && l.includes('"id":"n1"')));

    receiver.defaultReply = { status: 200 };
    const second = await start({ retrySchedule: [1] });
    assert.ok(second.logs.some((l) => l.startsWith('info log.resuming {"count":1,')));
    await until("delivered after the restart", () => second.outcomes.length === 1);
    const [{ finish, msg }] = second.outcomes as [{ finish: Finish; msg: NodeMessage }];
    assert.equal(finish, "delivered");
    assert.deepEqual([msg.topic, msg.ticket, msg.attempts], ["again", undefined, 2]);
    assert.equal(receiver.requests.length, 2);
    assert.equal(receiver.requests[0]!.body, receiver.requests[1]!.body, "the same bytes after the restart");
  });

  it("shows a bad number replaced by its default while nothing else is to be said", async () => {
    const run = await start({ timeout: "soon" });
    await until("status", () => run.statuses.length > 0);
    assert.deepEqual(run.statuses.at(-1), {
      fill: "yellow",
      shape: "ring",
      text: 'status.bad-number {"field":"timeout","value":"soon","fallback":15}',
    });
  });

  it("sends a test with the sample payload to the node's URL, queueing nothing", async () => {
    const run = await start();
    const reply = await run.sender.sendTest();
    assert.deepEqual(reply, { url: receiver.url, statusCode: 200, payload: { received: true } });
    assert.match(String(receiver.requests[0]!.json.execution_id), /^exec_test_/);
    assert.equal(run.sender.pending, 0);
    const noUrl = await start({ url: "" });
    await assert.rejects(noUrl.sender.sendTest(), /errors\.test-no-url/);
  });

  it("reports an outbox it cannot open, and refuses msgs with that error", async () => {
    const run = await start({}, { openOutbox: () => Promise.reject(new Error("no disk")) });
    assert.ok(run.logs.some((l) => l.startsWith("error errors.outbox-open") && l.includes("no disk")));
    assert.deepEqual(run.statuses.at(-1), { fill: "red", shape: "ring", text: "status.outbox-error {}" });
    await assert.rejects(run.sender.accept({ payload: "x" }), /errors\.outbox-open.*no disk/);
  });

  it("refuses msgs while the disk is full with 'outbox: disk full', says so once, and takes msgs again when there is room", async () => {
    receiver.defaultReply = "hang";
    let full = false;
    const files: JournalFs = {
      ...nodeJournalFs,
      open: async (file, flags, mode) => {
        const handle = await nodeJournalFs.open(file, flags, mode);
        return {
          write: (buffer, offset, length) =>
            full
              ? Promise.reject(Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" }))
              : handle.write(buffer, offset, length),
          read: (buffer, offset, length, position) => handle.read(buffer, offset, length, position),
          sync: () => handle.sync(),
          truncate: (length) => handle.truncate(length),
          close: () => handle.close(),
        };
      },
    };
    const run = await start({ timeout: 60 }, { openOutbox: (file, options) => Outbox.open(file, { ...(options as object), files }) });
    await run.sender.accept({ payload: "before" });
    full = true;
    for (let i = 0; i < 5; i += 1) await assert.rejects(run.sender.accept({ payload: `full ${i}` }), /^Error: errors\.outbox-full /);
    assert.equal(run.logs.filter((l) => l.startsWith("error errors.outbox-full")).length, 1, "logged once, not per msg");
    await until("disk full status", () => run.statuses.at(-1)?.text === "status.disk-full {}");
    assert.equal(run.statuses.at(-1)?.fill, "red");
    assert.equal(run.sender.pending, 1);
    full = false;
    await run.sender.accept({ payload: "after" });
    assert.ok(run.logs.some((l) => l.startsWith("info log.outbox-writable")));
    await until("status no longer disk full", () => run.statuses.at(-1)?.text !== "status.disk-full {}");
    assert.equal(run.sender.pending, 2);
  });

  it("reports a journal held by another process with its pid, in the log and the status", async () => {
    const run = await start({}, { openOutbox: () => Promise.reject(new JournalLockedError("/x/n1.jsonl", 4242)) });
    assert.ok(run.logs.some((l) => l.startsWith("error errors.outbox-locked") && l.includes('"pid":4242')));
    assert.deepEqual(run.statuses.at(-1), { fill: "red", shape: "ring", text: 'status.outbox-locked {"pid":4242}' });
    await assert.rejects(run.sender.accept({ payload: "x" }), /errors\.outbox-locked/);
  });

  it("refuses msgs once closing", async () => {
    const run = await start();
    await run.sender.close(false);
    await assert.rejects(run.sender.accept({ payload: "late" }), /errors\.closing/);
  });

  it("takes msg.url only for an allowed origin; an origin allowed by * alone gets no credentials", async () => {
    const origin = new URL(receiver.url).origin;
    const none = await start({ url: "" });
    await assert.rejects(
      none.sender.accept({ payload: "x", url: receiver.url }),
      new RegExp(`errors\\.origin-not-allowed \\{"origin":"${origin}"\\}`),
    );
    assert.equal(none.sender.pending, 0);
    await none.sender.close(false);

    const any = await start({ url: "", allowedOrigins: ["*"], headers: [{ name: "X-Mine", value: "1" }] });
    await any.sender.accept({ payload: "bare", url: receiver.url });
    await until("delivered", () => any.outcomes.length === 1);
    const headers = receiver.requests[0]!.headers;
    assert.deepEqual([headers["x-webhook-secret"], headers["x-mine"], headers["content-type"]], [undefined, undefined, "application/json"]);
  });

  it("gives up at once, sending nothing, on a journaled msg.url whose origin is no longer allowed", async () => {
    receiver.defaultReply = { status: 500 };
    const first = await start({ url: "", allowedOrigins: [new URL(receiver.url).origin], retrySchedule: [1] });
    await first.sender.accept({ payload: "kept", url: receiver.url });
    await receiver.count(1);
    await until("retry journaled", () => readFileSync(first.journal, "utf8").includes('"op":"retry"'));
    await first.sender.close(false);
    const second = await start({ url: "", allowedOrigins: ["https://elsewhere.example"], retrySchedule: [1, 1] });
    await until("gave up", () => second.outcomes.length === 1);
    assert.equal(second.outcomes[0]!.finish, "gave-up");
    assert.match(String(second.outcomes[0]!.msg.error), /errors\.origin-withdrawn/);
    assert.equal(receiver.requests.length, 1);
  });

  it("an output msg that cannot be handed on is logged as that callback's error, and delivery goes on", async () => {
    let calls = 0;
    const run = await start(
      {},
      {
        onOutcome: () => {
          calls += 1;
          if (calls === 1) throw new TypeError("Cannot perform 'IsArray' on a proxy that has been revoked");
        },
      },
    );
    await run.sender.accept({ payload: "first" });
    await until("error logged", () => run.logs.some((l) => l.startsWith("error errors.output-failed") && l.includes("revoked")));
    await run.sender.accept({ payload: "second" });
    await until("second handed on", () => calls === 2);
    assert.equal(receiver.requests.length, 2);
  });
});
