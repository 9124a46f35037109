// What a delivery looked like (issue 22), file outbox, in a real Node-RED child process with
// adminAuth: a waiting, a delivered and a gave-up callback open to show their exact body and their
// attempts (time, HTTP status, duration, the reply's first KB), kept where the callback is kept (the
// journal, the gave-up file) so that a restart keeps them, and no secret in any answer.
import assert from "node:assert/strict";
import { NodeRedProcess } from "../../support/node-red";
import { Receiver } from "../../support/receiver";
import { ADMIN, adminAuthSettings, deployAs, token } from "../../support/admin-auth";
import { feedNodes, outcomeNodes } from "../../support/feed-flow";
import { callAdmin, feedCallback, pollUntil, type AdminReply } from "../../support/deliveries-api";

const OUT_SECRET = "out-secret-a1b2c3";
const SIGNING_KEY = "signing-key-d4e5f6";
const IN_SECRET = "in-secret-0f9e8d";
const WRONG_SECRET = "wrong-secret-1a2b3c";
const COOKIE = "session-cookie-4d5e6f";
const SENT = {
  agent_loop_id: "loop_1",
  agent_loop_name: "Nightly",
  execution_id: "exec_in_open",
  status: "completed",
  result: { output: "42" },
};

interface Attempt {
  at: number;
  ms: number;
  statusCode?: number;
  error?: string;
  reply?: string;
}
interface Detail {
  id: string;
  executionId: string;
  body: string;
  attempts: Attempt[];
}
interface Listed {
  id: string;
  executionId: string;
  why?: string;
  attempts: number;
  lastStatus?: number;
}
interface OutView {
  waiting: Listed[];
  gaveUp: Listed[];
  delivered: Listed[];
}

function flows(receiverUrl: string, outcomesUrl: string): unknown[] {
  return [
    { id: "tab", type: "tab", label: "attempts" },
    ...feedNodes("out"),
    {
      id: "out",
      type: "agent-callback-out",
      z: "tab",
      name: "to receiver",
      url: receiverUrl,
      agentLoopId: "loop_attempts",
      agentLoopName: "Attempts test",
      signature: "hmac-sha256",
      retrySchedule: [3600, 3600, 3600],
      credentials: { secret: OUT_SECRET, signingKey: SIGNING_KEY },
      wires: [[], ["gave-up-shape"]],
    },
    ...outcomeNodes(outcomesUrl),
    {
      id: "in",
      type: "agent-callback-in",
      z: "tab",
      url: "/hook",
      verify: "secret",
      credentials: { secret: IN_SECRET },
      wires: [[], [], []],
    },
  ];
}

describe("deliveries sidebar: a callback's payload and attempts (file outbox, Node-RED child process)", function () {
  this.timeout(180_000);
  let nodeRed: NodeRedProcess;
  let receiver: Receiver;
  let outcomes: Receiver;
  let adminToken = "";
  const started = Date.now();

  const api = (method: "GET" | "POST", route: string, body?: unknown): Promise<AdminReply> =>
    callAdmin(nodeRed.url, adminToken, [OUT_SECRET, SIGNING_KEY, IN_SECRET, WRONG_SECRET, COOKIE], method, route, body);
  /** The node's view; empty lists while it starts (503). */
  async function outView(): Promise<OutView> {
    const { status, json } = await api("GET", "/agent-callback/out/out");
    return status === 200 ? (json as unknown as OutView) : { waiting: [], gaveUp: [], delivered: [] };
  }
  async function detail(id: string): Promise<Detail> {
    const { status, json } = await api("GET", `/agent-callback/out/out/callback/${encodeURIComponent(id)}`);
    assert.equal(status, 200, JSON.stringify(json));
    return json as unknown as Detail;
  }
  const find = (list: Listed[], executionId: string): Listed | undefined => list.find((l) => l.executionId === executionId);

  before(async () => {
    receiver = await new Receiver().start();
    outcomes = await new Receiver().start();
    nodeRed = new NodeRedProcess({ flows: [], settings: adminAuthSettings() });
    await nodeRed.start();
    adminToken = await token(nodeRed.url, ADMIN);
    await deployAs(nodeRed.url, adminToken, flows(receiver.url, outcomes.url));
    await nodeRed.waitFor(/Started flows[\s\S]*Started flows/);
  });

  after(async () => {
    await nodeRed?.stop();
    nodeRed?.cleanup();
    await receiver?.stop();
    await outcomes?.stop();
  });

  it("a waiting callback shows its body and each failed attempt (status, duration, the reply's first KB), also after a restart", async () => {
    const long = "x".repeat(5000);
    receiver.replies.push({ status: 503, body: `busy ${long}` }, { status: 500, body: "broken" });
    await feedCallback(nodeRed.url, "exec_att_wait");
    let view = await pollUntil(outView, (v) => find(v.waiting, "exec_att_wait")?.attempts === 1, "one failed attempt");
    assert.equal((await api("POST", "/agent-callback/out/out/retry", { execution_ids: ["exec_att_wait"] })).status, 200);
    // A manual attempt that fails leaves the count where it was (retry-policy "back"): its reply tells it came.
    view = await pollUntil(outView, (v) => find(v.waiting, "exec_att_wait")?.lastStatus === 500, "the second failed attempt");
    const id = find(view.waiting, "exec_att_wait")!.id;

    const check = (shown: Detail): void => {
      assert.equal(shown.executionId, "exec_att_wait");
      const body = JSON.parse(shown.body) as { execution_id: string; result: unknown };
      assert.deepEqual([body.execution_id, body.result], ["exec_att_wait", { output: "output of exec_att_wait" }]);
      assert.deepEqual(
        shown.attempts.map((a) => a.statusCode),
        [503, 500],
      );
      assert.equal(shown.attempts[0]!.reply, `busy ${long}`.slice(0, 1024), "the reply's first KB");
      assert.equal(shown.attempts[1]!.reply, "broken");
      for (const a of shown.attempts) {
        assert.ok(a.at >= started && a.at <= Date.now(), `attempt time ${a.at}`);
        assert.ok(Number.isInteger(a.ms) && a.ms >= 0, `duration ${a.ms}`);
      }
      assert.ok(shown.attempts[0]!.at <= shown.attempts[1]!.at);
    };
    check(await detail(id));
    await nodeRed.restart();
    await pollUntil(outView, (v) => find(v.waiting, "exec_att_wait") !== undefined, "the callback back after the restart");
    check(await detail(id));
  });

  it("a delivered callback shows every attempt, the delivering one last with its reply", async () => {
    const id = find((await outView()).waiting, "exec_att_wait")!.id;
    receiver.replies.push({ status: 200, headers: { "Content-Type": "application/json" }, body: '{"thanks":true}' });
    await api("POST", "/agent-callback/out/out/retry", { execution_ids: ["exec_att_wait"] });
    await pollUntil(outView, (v) => find(v.delivered, "exec_att_wait") !== undefined, "delivered");
    const shown = await detail(id);
    assert.deepEqual(
      shown.attempts.map((a) => [a.statusCode, a.reply]),
      [
        [503, `busy ${"x".repeat(5000)}`.slice(0, 1024)],
        [500, "broken"],
        [200, '{"thanks":true}'],
      ],
    );
  });

  it("a gave-up callback (410) says why in the gave-up msg's words, and shows its attempt, also after a restart", async () => {
    receiver.replies.push({ status: 410, body: "gone for good" });
    await feedCallback(nodeRed.url, "exec_att_gone");
    const view = await pollUntil(outView, (v) => find(v.gaveUp, "exec_att_gone") !== undefined, "gave up");
    const gone = find(view.gaveUp, "exec_att_gone")!;
    assert.equal(gone.why, "The receiver refused the callback (HTTP 410). Its reply says why.");
    await outcomes.waitFor((r) => r.some((o) => o.json.executionId === "exec_att_gone"), 20_000, "the gave-up msg");
    const msg = outcomes.requests.find((o) => o.json.executionId === "exec_att_gone");
    assert.ok(String(msg?.json.error).includes(gone.why!), "the same words as msg.error");
    const check = (shown: Detail): void => {
      assert.equal((JSON.parse(shown.body) as { execution_id: string }).execution_id, "exec_att_gone");
      assert.deepEqual(
        shown.attempts.map((a) => [a.statusCode, a.reply]),
        [[410, "gone for good"]],
      );
    };
    check(await detail(gone.id));
    await nodeRed.restart();
    await pollUntil(outView, (v) => find(v.gaveUp, "exec_att_gone") !== undefined, "gave up after the restart");
    check(await detail(gone.id));
  });

  it("callback in's requests open to show their headers without any secret value, and the body that arrived", async () => {
    const post = (secret: string): Promise<Response> =>
      fetch(`${nodeRed.url}/hook`, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-Webhook-Secret": secret, Cookie: `sid=${COOKIE}`, "X-Trace": "trace-7" },
        body: JSON.stringify(SENT),
      });
    assert.equal((await post(IN_SECRET)).status, 200);
    assert.equal((await post(WRONG_SECRET)).status, 401);
    const { json } = await api("GET", "/agent-callback/in/in");
    const requests = (json as unknown as { requests: Array<{ id: number; outcome: string }> }).requests;
    const accepted = requests.find((r) => r.outcome === "accepted")!;
    const refused = requests.find((r) => r.outcome !== "accepted")!;
    const open = async (id: number): Promise<{ headers: Record<string, string>; hidden: string[]; body: string }> => {
      const reply = await api("GET", `/agent-callback/in/in/request/${id}`);
      assert.equal(reply.status, 200, JSON.stringify(reply.json));
      return reply.json as unknown as { headers: Record<string, string>; hidden: string[]; body: string };
    };
    const shown = await open(accepted.id);
    assert.equal(shown.headers["x-trace"], "trace-7");
    assert.equal(shown.headers["content-type"], "application/json");
    assert.deepEqual(shown.hidden.sort(), ["cookie", "x-webhook-secret"]);
    assert.deepEqual(JSON.parse(shown.body), SENT);
    const refusal = await open(refused.id);
    assert.deepEqual([refusal.headers["x-trace"], refusal.hidden.sort(), refusal.body], ["trace-7", ["cookie", "x-webhook-secret"], ""]);
    assert.equal((await api("GET", "/agent-callback/in/in/request/99999")).status, 404);
  });

  it("an unknown callback is a 404 that says so", async () => {
    const { status, json } = await api("GET", "/agent-callback/out/out/callback/nope-123");
    assert.equal(status, 404);
    assert.match(String(json.error), /nope-123/);
  });
});
