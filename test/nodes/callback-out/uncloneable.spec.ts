// A msg that Node-RED cannot copy (here a revoked Proxy, which lodash's cloneDeep throws on) sent
// through callback out in a real Node-RED child: the copies Node-RED makes for a Complete node,
// a Catch node and a second wire all throw, and Node-RED must keep running with the error reported.
import assert from "node:assert/strict";
import { NodeRedProcess } from "../../support/node-red";
import { Receiver } from "../../support/receiver";

const TAB = { id: "tab1", type: "tab", label: "uncloneable" };

/** POST /feed {payload} -> a Function that adds a revoked Proxy -> callback out, wired so that every msg it emits is copied. */
function flows(receiverUrl: string): unknown[] {
  const poison = [
    "const revocable = Proxy.revocable({}, {});",
    "revocable.revoke();",
    "const out = { payload: msg.payload.payload, uncloneable: revocable.proxy };",
    "return [out, { req: msg.req, res: msg.res, payload: 'fed' }];",
  ].join("\n");
  return [
    TAB,
    { id: "feed", type: "http in", z: "tab1", url: "/feed", method: "post", upload: false, swaggerDoc: "", wires: [["poison"]] },
    { id: "poison", type: "function", z: "tab1", func: poison, outputs: 2, wires: [["out"], ["answer"]] },
    { id: "answer", type: "http response", z: "tab1", statusCode: "200", headers: {}, wires: [] },
    {
      id: "out",
      type: "agent-callback-out",
      z: "tab1",
      url: receiverUrl,
      agentLoopId: "loop_poison",
      retrySchedule: "1",
      // Two wires on each output: Node-RED copies the msg for the second.
      wires: [
        ["d1", "d2"],
        ["d3", "d4"],
      ],
    },
    { id: "complete", type: "complete", z: "tab1", scope: ["out"], uncaught: false, wires: [["d5"]] },
    { id: "catcher", type: "catch", z: "tab1", scope: ["out"], uncaught: false, wires: [["d5"]] },
    ...["d1", "d2", "d3", "d4", "d5"].map((id) => ({
      id,
      type: "debug",
      z: "tab1",
      active: true,
      console: false,
      complete: "true",
      wires: [],
    })),
  ];
}

describe("callback out with a msg Node-RED cannot copy (real Node-RED)", function () {
  this.timeout(120_000);
  let receiver: Receiver;
  let nodeRed: NodeRedProcess;

  before(async () => {
    receiver = await new Receiver().start();
    nodeRed = new NodeRedProcess({ flows: flows(receiver.url) });
    await nodeRed.start();
  });
  after(async () => {
    await nodeRed.stop();
    nodeRed.cleanup();
    await receiver.stop();
  });

  async function feed(payload: unknown): Promise<void> {
    const res = await fetch(`${nodeRed.url}/feed`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ payload }),
    });
    assert.equal(res.status, 200);
  }

  function alive(): void {
    assert.match(nodeRed.log, /Started flows/);
    assert.doesNotMatch(nodeRed.log, /Uncaught Exception|unhandled/i);
    assert.ok(nodeRed.pid > 0);
  }

  it("keeps running and reports the error when the msg of a delivered callback cannot be copied", async () => {
    await feed({ agent_loop_id: "loop_poison", execution_id: "exec_poison_ok", status: "completed" });
    await receiver.count(1);
    await nodeRed.waitFor(/exec_poison_ok[^\n]*(copy|clone)|(copy|clone)[^\n]*exec_poison_ok/i, 20_000);
    alive();
    assert.equal(receiver.requests[0]?.json.execution_id, "exec_poison_ok");
  });

  it("keeps running and reports the error when a refused msg cannot be copied for the Catch node", async () => {
    await feed({ agent_loop_id: "loop_poison", execution_id: "exec_poison_bad", status: "not-a-status" });
    await nodeRed.waitFor(/msg\.payload\.status: expected one of completed, failed, timeout\. Nothing was sent/, 20_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    alive();
  });

  it("still delivers the next callback", async () => {
    const before = receiver.requests.length;
    await feed({ agent_loop_id: "loop_poison", execution_id: "exec_after", status: "completed" });
    await receiver.count(before + 1);
    alive();
    assert.equal(receiver.requests.at(-1)?.json.execution_id, "exec_after");
  });
});
