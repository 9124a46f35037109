// callback out -> callback in on one real Node-RED (child process, admin API at "/" so its body
// parsers run before node routes, as in production), once per signature mode: what callback out
// sends, callback in verifies, accepts and routes by status.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { NodeRedProcess, freePort } from "../support/node-red";
import { Receiver } from "../support/receiver";

interface Mode {
  name: string;
  /** callback out's signature property and credentials. */
  out: { signature: string; credentials: Record<string, string>; secretHeader?: string };
  /** callback in's verify property and credential secret. */
  in: { verify: string; secret?: string; secretHeader?: string };
}

const whsec = `whsec_${randomBytes(24).toString("base64")}`;
const MODES: Mode[] = [
  {
    name: "secret",
    out: { signature: "none", credentials: { secret: "shared-secret" } },
    in: { verify: "secret", secret: "shared-secret" },
  },
  {
    name: "secret-custom-header",
    out: { signature: "none", credentials: { secret: "other-secret" }, secretHeader: "X-Agent-Key" },
    in: { verify: "secret", secret: "other-secret", secretHeader: "X-Agent-Key" },
  },
  {
    name: "signature",
    out: { signature: "hmac-sha256", credentials: { signingKey: "hmac-key" } },
    in: { verify: "signature", secret: "hmac-key" },
  },
  {
    name: "standard-webhooks",
    out: { signature: "standard-webhooks", credentials: { signingKey: whsec } },
    in: { verify: "standard-webhooks", secret: whsec },
  },
  { name: "none", out: { signature: "none", credentials: {} }, in: { verify: "none" } },
];

/** Per mode: http in /feed-<mode> -> callback out -> callback in /agent-results-<mode> -> http request to the observer. */
function flows(nodeRedUrl: string, observerUrl: string): unknown[] {
  const list: unknown[] = [{ id: "tab", type: "tab", label: "round trip" }];
  MODES.forEach((mode, row) => {
    const y = 100 + row * 100;
    const n = (suffix: string): string => `${mode.name}-${suffix}`;
    list.push(
      {
        id: n("feed"),
        type: "http in",
        z: "tab",
        url: `/feed-${mode.name}`,
        method: "post",
        upload: false,
        swaggerDoc: "",
        x: 100,
        y,
        wires: [[n("out"), n("ack")]],
      },
      { id: n("ack"), type: "http response", z: "tab", statusCode: "200", headers: {}, x: 300, y: y + 40, wires: [] },
      {
        id: n("out"),
        type: "agent-callback-out",
        z: "tab",
        url: `${nodeRedUrl}/agent-results-${mode.name}`,
        agentLoopId: `loop_${mode.name}`,
        agentLoopName: `Round trip ${mode.name}`,
        signature: mode.out.signature,
        ...(mode.out.secretHeader ? { secretHeader: mode.out.secretHeader } : {}),
        retrySchedule: [0.2, 0.2],
        credentials: mode.out.credentials,
        x: 300,
        y,
        wires: [[n("delivered")], [n("gave-up")]],
      },
      {
        id: n("delivered"),
        type: "http request",
        z: "tab",
        method: "POST",
        ret: "txt",
        url: `${observerUrl}/delivered/${mode.name}`,
        x: 500,
        y,
        wires: [[]],
      },
      {
        id: n("gave-up"),
        type: "http request",
        z: "tab",
        method: "POST",
        ret: "txt",
        url: `${observerUrl}/gave-up/${mode.name}`,
        x: 500,
        y: y + 40,
        wires: [[]],
      },
      {
        id: n("in"),
        type: "agent-callback-in",
        z: "tab",
        url: `/agent-results-${mode.name}`,
        verify: mode.in.verify,
        ...(mode.in.secretHeader ? { secretHeader: mode.in.secretHeader } : {}),
        credentials: mode.in.secret ? { secret: mode.in.secret } : {},
        x: 700,
        y,
        wires: [[n("completed")], [n("failed")], [n("timeout")]],
      },
      {
        id: n("completed"),
        type: "http request",
        z: "tab",
        method: "POST",
        ret: "txt",
        url: `${observerUrl}/completed/${mode.name}`,
        x: 900,
        y,
        wires: [[]],
      },
      {
        id: n("failed"),
        type: "http request",
        z: "tab",
        method: "POST",
        ret: "txt",
        url: `${observerUrl}/failed/${mode.name}`,
        x: 900,
        y: y + 20,
        wires: [[]],
      },
      {
        id: n("timeout"),
        type: "http request",
        z: "tab",
        method: "POST",
        ret: "txt",
        url: `${observerUrl}/timeout/${mode.name}`,
        x: 900,
        y: y + 40,
        wires: [[]],
      },
    );
  });
  return list;
}

describe("round trip: callback out -> callback in on one Node-RED", function () {
  this.timeout(120_000);
  let nodeRed: NodeRedProcess;
  let observer: Receiver;

  before(async () => {
    observer = await new Receiver().start();
    nodeRed = new NodeRedProcess({ flows: [] });
    nodeRed.port = await freePort();
    await nodeRed.start();
    // Deployed through the admin API so that credentials are stored as Node-RED stores them.
    const res = await fetch(`${nodeRed.url}/flows`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Node-RED-Deployment-Type": "full" },
      body: JSON.stringify(flows(nodeRed.url, `http://127.0.0.1:${observer.port}`)),
    });
    assert.equal(res.status, 204, await res.text());
    await nodeRed.waitFor(/Started flows[\s\S]*Started flows/);
  });

  after(async () => {
    await nodeRed.stop();
    nodeRed.cleanup();
    await observer.stop();
  });

  for (const mode of MODES) {
    it(`delivers, verifies and routes by status with ${mode.name}`, async () => {
      const feed = async (body: unknown): Promise<void> => {
        const res = await fetch(`${nodeRed.url}/feed-${mode.name}`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(body),
        });
        assert.equal(res.status, 200, await res.text());
      };
      await feed({ output: "the report" });
      await feed({ status: "failed", result: null, error: "Tool call failed: HTTP 500 from API" });
      await feed({ status: "timeout", result: { output: "Partial result..." }, error: "Execution timeout after 300 seconds" });
      const seen = (kind: string): Array<Record<string, unknown>> =>
        observer.requests.filter((r) => r.path === `/${kind}/${mode.name}`).map((r) => r.json);
      await observer.waitFor(
        () => seen("completed").length >= 1 && seen("failed").length >= 1 && seen("timeout").length >= 1 && seen("delivered").length >= 3,
        60_000,
        `three callbacks routed and delivered with ${mode.name}:\n${nodeRed.log}`,
      );

      const completed = seen("completed")[0]!;
      assert.equal(completed.agent_loop_id, `loop_${mode.name}`);
      assert.equal(completed.agent_loop_name, `Round trip ${mode.name}`);
      assert.equal(completed.status, "completed");
      assert.deepEqual(completed.result, { output: '{"output":"the report"}', iterations_used: null, tool_calls: null });
      assert.equal(seen("failed")[0]!.error, "Tool call failed: HTTP 500 from API");
      assert.equal(seen("timeout")[0]!.error, "Execution timeout after 300 seconds");
      // callback in's reply reached callback out's "delivered" output.
      const delivered = observer.requests.filter((r) => r.path === `/delivered/${mode.name}`);
      for (const request of delivered) assert.deepEqual(request.json, { received: true });
      assert.equal(seen("gave-up").length, 0);
    });
  }

  it("is rejected by callback in when the secret does not match, and given up after the schedule", async () => {
    // A separate pair: callback out signs with a key callback in does not know (401 is a 4xx: retried, then given up).
    const res = await fetch(`${nodeRed.url}/flows`, { headers: { "Node-RED-API-Version": "v1" } });
    const current = (await res.json()) as Array<Record<string, unknown>>;
    const next = current.map((node) =>
      node.id === "signature-out" ? { ...node, credentials: { signingKey: "wrong-key" }, retrySchedule: [0.1] } : node,
    );
    const deployed = await fetch(`${nodeRed.url}/flows`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Node-RED-Deployment-Type": "nodes" },
      body: JSON.stringify(next),
    });
    assert.equal(deployed.status, 204, await deployed.text());
    await nodeRed.waitFor(/Started modified nodes/);
    const before = observer.requests.length;
    const feed = await fetch(`${nodeRed.url}/feed-signature`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ output: "forged" }),
    });
    assert.equal(feed.status, 200);
    await observer.waitFor((requests) => requests.slice(before).some((r) => r.path === "/gave-up/signature"), 60_000, "gave up");
    assert.equal(observer.requests.slice(before).filter((r) => r.path === "/completed/signature").length, 0);
  });
});
