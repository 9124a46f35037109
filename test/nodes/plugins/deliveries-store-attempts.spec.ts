// What a delivery looked like (issue 22) with a callback store: a callback's attempts are kept in
// its entry in Redis and then in its gave-up record there (a real redis-server, a real Node-RED
// child process with adminAuth), bounded, with no secret; the tab's route opens them.
import assert from "node:assert/strict";
import type { StoreConnection } from "../../../nodes/lib/store/connection";
import { ADMIN, adminAuthSettings, deployAs, token } from "../../support/admin-auth";
import { NodeRedProcess } from "../../support/node-red";
import { Receiver } from "../../support/receiver";
import { RedisServer } from "../../support/redis-server";
import { openStore } from "../../support/store";
import { callAdmin, feedCallback, pollUntil, type AdminReply } from "../../support/deliveries-api";
import { feedNodes, outcomeNodes } from "../../support/feed-flow";

const OUT_SECRET = "out-secret-store-7a7a";
const SIGNING_KEY = "signing-key-store-8b8b";
const QUEUE = "agent-callback:outbox:out";

interface Attempt {
  at: number;
  ms: number;
  statusCode?: number;
  reply?: string;
}
interface Listed {
  id: string;
  executionId: string;
  why?: string;
  lastStatus?: number;
}
interface OutView {
  waiting: Listed[];
  gaveUp: Listed[];
  delivered: Listed[];
}

function flows(redisUrl: string, receiverUrl: string, outcomesUrl: string): unknown[] {
  return [
    { id: "tab", type: "tab", label: "store attempts" },
    ...feedNodes("out"),
    { id: "store", type: "agent-callback-store", url: redisUrl, prefix: "agent-callback:" },
    {
      id: "out",
      type: "agent-callback-out",
      z: "tab",
      url: receiverUrl,
      store: "store",
      agentLoopId: "loop_store_att",
      signature: "hmac-sha256",
      retrySchedule: [3600, 3600],
      credentials: { secret: OUT_SECRET, signingKey: SIGNING_KEY },
      wires: [[], ["gave-up-shape"]],
    },
    ...outcomeNodes(outcomesUrl),
  ];
}

describe("deliveries sidebar: a callback's attempts kept in the callback store (redis-server, Node-RED child process)", function () {
  this.timeout(180_000);
  const redis = new RedisServer();
  let admin: StoreConnection;
  let nodeRed: NodeRedProcess;
  let receiver: Receiver;
  let outcomes: Receiver;
  let adminToken = "";

  const api = (route: string): Promise<AdminReply> => callAdmin(nodeRed.url, adminToken, [OUT_SECRET, SIGNING_KEY], "GET", route);
  const post = (route: string, body: unknown): Promise<AdminReply> =>
    callAdmin(nodeRed.url, adminToken, [OUT_SECRET, SIGNING_KEY], "POST", route, body);
  async function outView(): Promise<OutView> {
    const { status, json } = await api("/agent-callback/out/out");
    return status === 200 ? (json as unknown as OutView) : { waiting: [], gaveUp: [], delivered: [] };
  }
  async function attemptsOf(id: string): Promise<Attempt[]> {
    const { status, json } = await api(`/agent-callback/out/out/callback/${encodeURIComponent(id)}`);
    assert.equal(status, 200, JSON.stringify(json));
    return (json as unknown as { attempts: Attempt[] }).attempts;
  }
  const find = (list: Listed[], executionId: string): Listed | undefined => list.find((l) => l.executionId === executionId);

  before(async () => {
    await redis.start();
    receiver = await new Receiver().start();
    outcomes = await new Receiver().start();
    admin = await openStore(redis.url, "agent-callback:");
    nodeRed = new NodeRedProcess({ flows: [], settings: adminAuthSettings() });
    await nodeRed.start();
    adminToken = await token(nodeRed.url, ADMIN);
    await deployAs(nodeRed.url, adminToken, flows(redis.url, receiver.url, outcomes.url));
    await nodeRed.waitFor(/Started flows[\s\S]*Started flows/);
  });

  after(async () => {
    await nodeRed?.stop();
    nodeRed?.cleanup();
    await receiver?.stop();
    await outcomes?.stop();
    await admin?.close();
    await redis.stop();
    redis.cleanup();
  });

  it("a failed attempt is kept in the entry in Redis (reply cut to 1 KB, no secret); a manual attempt's too", async () => {
    receiver.replies.push({ status: 503, body: "y".repeat(3000) });
    await feedCallback(nodeRed.url, "exec_store_att");
    const view = await pollUntil(outView, (v) => find(v.waiting, "exec_store_att")?.lastStatus === 503, "a failed attempt");
    const id = find(view.waiting, "exec_store_att")!.id;

    const stored = await admin.sendCommand(["HGET", `${QUEUE}:entries`, id]);
    assert.equal(typeof stored, "string");
    const entry = JSON.parse(stored as string) as { history?: Attempt[] };
    assert.deepEqual(
      entry.history?.map((a) => [a.statusCode, a.reply]),
      [[503, "y".repeat(1024)]],
    );
    for (const secret of [OUT_SECRET, SIGNING_KEY]) assert.ok(!(stored as string).includes(secret), "no secret in the store's entry");
    assert.deepEqual(
      (await attemptsOf(id)).map((a) => a.statusCode),
      [503],
    );

    // A manual attempt that fails goes back to its place (it never gives up): its attempt is kept too.
    receiver.replies.push({ status: 410, body: "gone" });
    await post("/agent-callback/out/out/retry", { execution_ids: ["exec_store_att"] });
    await pollUntil(outView, (v) => find(v.waiting, "exec_store_att")?.lastStatus === 410, "the second attempt");
    const shown = await attemptsOf(id);
    assert.deepEqual(
      shown.map((a) => [a.statusCode, a.reply]),
      [
        [503, "y".repeat(1024)],
        [410, "gone"],
      ],
    );
    for (const a of shown) assert.ok(Number.isInteger(a.ms) && a.ms >= 0 && a.at > 0);
  });

  it("a callback given up keeps its attempts in its gave-up record in Redis, its cause in the gave-up msg's words", async () => {
    receiver.replies.push({ status: 410, body: "gone for good" });
    await feedCallback(nodeRed.url, "exec_store_gone");
    const view = await pollUntil(outView, (v) => find(v.gaveUp, "exec_store_gone") !== undefined, "gave up");
    const gone = find(view.gaveUp, "exec_store_gone")!;
    assert.equal(gone.why, "The receiver refused the callback (HTTP 410). Its reply says why.");
    const record = await admin.sendCommand(["HGET", `${QUEUE}:gaveup`, gone.id]);
    assert.deepEqual(
      (JSON.parse(record as string) as { history: Attempt[] }).history.map((a) => [a.statusCode, a.reply]),
      [[410, "gone for good"]],
    );
    assert.deepEqual(
      (await attemptsOf(gone.id)).map((a) => a.statusCode),
      [410],
    );
  });

  it("a delivered callback (this instance's) opens with its attempts", async () => {
    receiver.replies.push({ status: 502, body: "bad gateway" }, { status: 200, body: "ok" });
    await feedCallback(nodeRed.url, "exec_store_ok");
    await pollUntil(outView, (v) => find(v.waiting, "exec_store_ok")?.lastStatus === 502, "a failed attempt");
    await post("/agent-callback/out/out/retry", { execution_ids: ["exec_store_ok"] });
    const view = await pollUntil(outView, (v) => find(v.delivered, "exec_store_ok") !== undefined, "delivered");
    const shown = await attemptsOf(find(view.delivered, "exec_store_ok")!.id);
    assert.deepEqual(
      shown.map((a) => [a.statusCode, a.reply]),
      [
        [502, "bad gateway"],
        [200, "ok"],
      ],
    );
  });
});
