// callback out's outbox files in a real Node-RED runtime: a folder another user owns or can write,
// and a journal or gave-up file that is a symbolic link, are refused (log, red status, each msg's
// error to a Catch node) and never read or written; files are created owner-only.
import assert from "node:assert/strict";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import callbackOut from "../../../nodes/callback-out";
import { nodeRedDir } from "../../support/node-red";
import { Receiver } from "../../support/receiver";
import { helper, type HelperMsg } from "../../support/test-helper";

// eslint-disable-next-line @typescript-eslint/no-require-imports -- resolved at run time from the Node-RED under test (NODE_RED_PACKAGE)
const catchNode: unknown = require(require.resolve("@node-red/nodes/core/common/25-catch.js", { paths: [nodeRedDir()] }));

/** The uid of `nobody` on Debian and most Linux systems. */
const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;

interface Loaded {
  caught: HelperMsg[];
  statuses: Array<{ fill?: string; text?: string }>;
}

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function errorsLogged(): string[] {
  const log = helper.log();
  return log.args.filter(([e]) => e.level === log.ERROR && e.id === "out").map(([e]) => String(e.msg));
}

describe("callback out: the outbox folder and files belong to Node-RED's user alone", function () {
  this.timeout(30_000);
  let receiver: Receiver;
  let userDir: string;
  let outboxDir: string;

  before(() => helper.startServer());
  after(() => helper.stopServer());

  beforeEach(async () => {
    userDir = mkdtempSync(path.join(tmpdir(), "co-files-"));
    outboxDir = path.join(userDir, "agent-callback-outbox");
    helper.settings({ userDir });
    receiver = await new Receiver().start();
  });

  afterEach(async () => {
    await helper.unload();
    await receiver.stop();
    rmSync(userDir, { recursive: true, force: true });
  });

  async function load(): Promise<Loaded> {
    const flow = [
      { id: "f1", type: "tab" },
      {
        id: "out",
        type: "agent-callback-out",
        z: "f1",
        url: receiver.url,
        agentLoopId: "loop_files",
        retrySchedule: [],
        wires: [["delivered"], ["gaveUp"]],
      },
      { id: "catcher", type: "catch", z: "f1", scope: null, wires: [["caught"]] },
      { id: "delivered", type: "helper", z: "f1" },
      { id: "gaveUp", type: "helper", z: "f1" },
      { id: "caught", type: "helper", z: "f1" },
    ];
    const loaded: Loaded = { caught: [], statuses: [] };
    await helper.load([callbackOut, catchNode], flow);
    helper.getNode("out").on("call:status", (call) => loaded.statuses.push(call.args[0] as { fill?: string; text?: string }));
    helper.getNode("caught").on("input", (msg) => loaded.caught.push(msg));
    return loaded;
  }

  /** Sends one msg and expects it refused with `pattern`, the status red and the log naming the same. */
  async function assertRefused(pattern: RegExp): Promise<void> {
    const loaded = await load();
    helper.getNode("out").receive({ payload: "never sent" });
    await until(() => loaded.caught.length > 0, "the msg's error at the Catch node");
    const error = loaded.caught[0]?.error as { message?: string } | undefined;
    assert.match(String(error?.message), pattern);
    assert.ok(
      errorsLogged().some((line) => pattern.test(line)),
      `the log names it: ${JSON.stringify(errorsLogged())}`,
    );
    await until(() => loaded.statuses.some((s) => s.fill === "red"), "a red status");
    assert.match(String(loaded.statuses.find((s) => s.fill === "red")?.text), /not safe/);
    // Give a wrongly opened outbox time to deliver what it holds.
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(receiver.requests.length, 0, "nothing is sent");
  }

  it("refuses a folder owned by another user (nobody), writing nothing in it", async function () {
    if (!isRoot) this.skip(); // only root can give a folder to another user (tests run as root here and in CI)
    mkdirSync(outboxDir, { mode: 0o700 });
    chownSync(outboxDir, NOBODY, NOBODY);
    await assertRefused(new RegExp(`${escape(outboxDir)} belongs to another user \\(uid ${NOBODY}\\)`));
    assert.deepEqual(readdirSync(outboxDir), []);
    assert.equal(statSync(outboxDir).uid, NOBODY);
  });

  it("refuses a folder others can write (mode 0777), keeping its mode and writing nothing in it", async () => {
    mkdirSync(outboxDir);
    chmodSync(outboxDir, 0o777);
    await assertRefused(new RegExp(`${escape(outboxDir)} can be written by other users \\(mode 777\\)`));
    assert.deepEqual(readdirSync(outboxDir), []);
    assert.equal(statSync(outboxDir).mode & 0o777, 0o777);
  });

  it("refuses a journal that is a symbolic link, and never sends the callback it points to", async () => {
    mkdirSync(outboxDir, { mode: 0o700 });
    const planted = path.join(userDir, "planted.jsonl");
    const body = JSON.stringify({
      execution_id: "exec_planted",
      agent_loop_id: "loop_files",
      status: "completed",
      result: { output: "x" },
    });
    const entry = { id: "p1", executionId: "exec_planted", body, attempts: 0, dueAt: 0, createdAt: 0, url: receiver.url };
    writeFileSync(planted, `${JSON.stringify({ op: "add", entry })}\n`, { mode: 0o600 });
    symlinkSync(planted, path.join(outboxDir, "out.jsonl"));
    await assertRefused(new RegExp(`${escape(path.join(outboxDir, "out.jsonl"))} is a symbolic link`));
    assert.equal(statSync(planted).size, Buffer.byteLength(JSON.stringify({ op: "add", entry })) + 1, "the planted file is untouched");
  });

  it("refuses a journal another user (nobody) put in the folder, and never sends its callback", async function () {
    if (!isRoot) this.skip(); // only root can give a file to another user (tests run as root here and in CI)
    mkdirSync(outboxDir, { mode: 0o700 });
    const journal = path.join(outboxDir, "out.jsonl");
    const body = JSON.stringify({
      execution_id: "exec_foreign",
      agent_loop_id: "loop_files",
      status: "completed",
      result: { output: "x" },
    });
    const entry = { id: "f1", executionId: "exec_foreign", body, attempts: 0, dueAt: 0, createdAt: 0, url: receiver.url };
    writeFileSync(journal, `${JSON.stringify({ op: "add", entry })}\n`, { mode: 0o600 });
    chownSync(journal, NOBODY, NOBODY);
    await assertRefused(new RegExp(`${escape(journal)} belongs to another user \\(uid ${NOBODY}\\)`));
    assert.equal(statSync(journal).uid, NOBODY);
  });

  it("refuses a gave-up file that is a symbolic link", async () => {
    mkdirSync(outboxDir, { mode: 0o700 });
    const target = path.join(userDir, "elsewhere.jsonl");
    writeFileSync(target, "", { mode: 0o644 });
    symlinkSync(target, path.join(outboxDir, "out.gave-up.jsonl"));
    await assertRefused(new RegExp(`${escape(path.join(outboxDir, "out.gave-up.jsonl"))} is a symbolic link`));
    assert.equal(statSync(target).mode & 0o777, 0o644, "the link's target keeps its mode");
  });

  it("creates the folder 0700 and the journal 0600, and tightens a journal left with a wider mode", async () => {
    mkdirSync(outboxDir, { mode: 0o755 });
    chmodSync(outboxDir, 0o755);
    const journal = path.join(outboxDir, "out.jsonl");
    writeFileSync(journal, "");
    chmodSync(journal, 0o644);
    await load();
    helper.getNode("out").receive({ payload: "sent" });
    await receiver.count(1);
    assert.equal(statSync(outboxDir).mode & 0o777, 0o700);
    assert.equal(statSync(journal).mode & 0o777, 0o600);
    assert.ok(existsSync(journal));
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
