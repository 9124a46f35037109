// The Sender's side of the deliveries sidebar without Node-RED: a real receiver on 127.0.0.1, the
// file outbox and gave-up file in a temp folder. Gave-up callbacks survive a new Sender on the same
// files; cancel, retry and resend act on the real queue.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Sender } from "../../../nodes/lib/send/sender";
import { readSettings } from "../../../nodes/lib/send/settings";
import type { OutDeliveries } from "../../../nodes/lib/shared/deliveries-api";
import { Receiver } from "../../support/receiver";
import { pollUntil } from "../../support/deliveries-api";

const t = (key: string): string => key;

describe("lib/send/file-sidebar (through a Sender)", () => {
  let receiver: Receiver;
  let dir: string;
  const running: Sender[] = [];
  beforeEach(async () => {
    receiver = await new Receiver().start();
    dir = mkdtempSync(path.join(tmpdir(), "file-sidebar-"));
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((s) => s.close(false)));
    await receiver.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(retrySchedule: number[]): Promise<{ sender: Sender; deliveries: OutDeliveries }> {
    const settings = readSettings(
      { url: receiver.url, agentLoopId: "loop_d", retrySchedule },
      { hasSigningKey: false, env: () => "", message: t },
    );
    const sender = new Sender({
      settings,
      credentials: {},
      userAgent: "test-agent",
      nodeId: "n1",
      journal: path.join(dir, "n1.jsonl"),
      gaveUpFile: path.join(dir, "n1.gave-up.jsonl"),
      bodyMemoryBytes: 1024 * 1024,
      t,
      log: { info: () => undefined, warn: () => undefined, error: () => undefined },
      onOutcome: () => undefined,
      onStatus: () => undefined,
      statusDelayMs: 5,
    });
    running.push(sender);
    await sender.start();
    assert.ok(sender.sidebar, "deliveries once the outbox is open");
    return { sender, deliveries: sender.sidebar };
  }

  const until = <T>(probe: () => Promise<T>, ok: (value: T) => boolean, what: string): Promise<T> =>
    pollUntil(probe, ok, what, { timeoutMs: 10_000, everyMs: 10 });

  it("a gave-up callback is on disk (0600) before it leaves the outbox, kept for a new Sender, and resent with the same bytes", async () => {
    receiver.replies.push({ status: 410 });
    const first = await start([]);
    await first.sender.accept({ payload: { execution_id: "exec_g1", status: "completed" } });
    await until(
      () => first.deliveries.view(),
      (v) => v.gaveUp.length === 1 && v.waitingTotal === 0,
      "gave up",
    );
    await first.sender.close(false);
    const file = path.join(dir, "n1.gave-up.jsonl");
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.match(readFileSync(file, "utf8"), /exec_g1/);

    const second = await start([]);
    const view = await second.deliveries.view();
    assert.deepEqual(
      // The cause in the gave-up msg's words (this test's catalog gives the key back).
      view.gaveUp.map((g) => [g.executionId, g.why, g.attempts]),
      [["exec_g1", "errors.reply.client", 1]],
    );
    assert.deepEqual(await second.deliveries.resend({ all: true }), { count: 1, notFound: [] });
    await receiver.waitFor((r) => r.filter((x) => x.json.execution_id === "exec_g1").length === 2);
    const [a, b] = receiver.requests.filter((x) => x.json.execution_id === "exec_g1");
    assert.equal(b!.body, a!.body);
    await until(
      () => second.deliveries.view(),
      (v) => v.gaveUp.length === 0 && v.delivered.length === 1,
      "delivered",
    );
  });

  it("cancel takes a waiting one out of the queue into gave up; retry now attempts at once", async () => {
    receiver.defaultReply = { status: 503 };
    const { sender, deliveries } = await start([3600, 3600]);
    await sender.accept({ payload: { execution_id: "exec_w1", status: "failed", error: "x" } });
    await sender.accept({ payload: { execution_id: "exec_w2", status: "completed" } });
    await until(
      () => deliveries.view(),
      (v) => v.waiting.filter((w) => w.attempts === 1).length === 2,
      "two waiting",
    );
    assert.deepEqual(await deliveries.cancel({ executionIds: ["exec_w1", "exec_none"] }), { count: 1, notFound: ["exec_none"] });
    let view = await deliveries.view();
    assert.deepEqual(
      view.waiting.map((w) => w.executionId),
      ["exec_w2"],
    );
    assert.equal(view.gaveUp[0]?.why, "cancelled");
    assert.equal(view.health.state, "failing");
    receiver.defaultReply = { status: 200, body: "ok" };
    assert.equal((await deliveries.retry({ all: true })).count, 1);
    view = await until(
      () => deliveries.view(),
      (v) => v.delivered.length === 1,
      "delivered",
    );
    assert.deepEqual([view.delivered[0]?.executionId, view.delivered[0]?.attempts, view.delivered[0]?.reply], ["exec_w2", 2, "ok"]);
    assert.equal(view.health.state, "up");
    assert.equal(receiver.requests.filter((r) => r.json.execution_id === "exec_w1").length, 1, "a cancelled one is not attempted again");
  });

  it("retry now that fails leaves the callback where it was: same attempts, same next attempt, never given up by presses", async () => {
    receiver.defaultReply = { status: 503 };
    const { sender, deliveries } = await start([3600, 3600]);
    await sender.accept({ payload: { execution_id: "exec_press", status: "completed" } });
    const before = await until(
      () => deliveries.view(),
      (v) => v.waiting[0]?.attempts === 1,
      "the first attempt",
    );
    const nextAttempt = before.waiting[0]!.nextAttempt;
    // More presses than the schedule has attempts left (two).
    for (let press = 1; press <= 4; press += 1) {
      assert.equal((await deliveries.retry({ executionIds: ["exec_press"] })).count, 1);
      await receiver.waitFor((requests) => requests.length === 1 + press);
      await until(
        () => deliveries.view(),
        (v) => v.waiting[0]?.inFlight === false,
        "the manual attempt's end",
      );
    }
    const after = await until(
      () => deliveries.view(),
      (v) => v.waiting[0]?.lastStatus === 503,
      "the last status kept",
    );
    assert.deepEqual(
      after.waiting.map((w) => [w.executionId, w.attempts, w.nextAttempt, w.lastStatus]),
      [["exec_press", 1, nextAttempt, 503]],
    );
    assert.equal(after.gaveUp.length, 0);
    assert.equal(sender.pending, 1);
  });
});
