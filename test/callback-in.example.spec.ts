// examples/01 (also the `npm start` demo): its callback in, once given a secret, routes each status to
// the debug node labelled with that status. Debug nodes are swapped for helper nodes to observe them.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import type { Application } from "express";
import supertest from "supertest";
import callbackIn from "../nodes/callback-in";
import { nodeRedMain, repoRoot } from "./support/node-red";

interface TestHelper {
  init(nodeRedPath: string): void;
  load(nodes: unknown[], flow: unknown[], credentials?: Record<string, unknown>): Promise<void>;
  unload(): Promise<void>;
  getNode(id: string): { on(event: "input", handler: (msg: { payload?: { execution_id?: string } }) => void): void };
  startServer(): Promise<void>;
  stopServer(): Promise<void>;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS module without type declarations, typed by the cast
const helper = require("node-red-node-test-helper") as TestHelper;
helper.init(nodeRedMain());

interface FlowNode {
  id: string;
  type: string;
  name?: string;
  url?: string;
  verify?: string;
  wires?: string[][];
  [key: string]: unknown;
}

const file = path.join(repoRoot, "examples", "01 - Receive agent results and route them by status.json");

describe("example 01: receive agent results and route them by status", () => {
  const flow = JSON.parse(readFileSync(file, "utf8")) as FlowNode[];
  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(() => helper.unload());

  it("is one callback in at /agent-results (verify secret), a debug node per output named after it, and a comment", () => {
    assert.ok(Array.isArray(flow));
    const ins = flow.filter((n) => n.type === "agent-callback-in");
    assert.equal(ins.length, 1);
    assert.equal(ins[0]?.url, "/agent-results");
    assert.equal(ins[0]?.verify, "secret");
    assert.equal(ins[0]?.credentials, undefined, "examples carry no secrets");
    const names = (ins[0]?.wires ?? []).map((ids) => ids.map((id) => flow.find((n) => n.id === id)));
    assert.deepEqual(
      names.map((nodes) => nodes.map((n) => `${n?.type}:${n?.name}`)),
      [["debug:completed"], ["debug:failed"], ["debug:timeout"]],
    );
    assert.ok(flow.some((n) => n.type === "comment" && String(n.info).includes("X-Webhook-Secret")));
  });

  it("routes each status to its labelled debug node once a secret is set", async () => {
    let app: Application | undefined;
    const runnable = flow
      .filter((n) => n.type !== "comment")
      .map((n) => (n.type === "debug" ? { id: n.id, type: "helper", name: n.name } : n));
    const inId = flow.find((n) => n.type === "agent-callback-in")!.id;
    await helper.load([(RED: { httpNode: Application }) => (app = RED.httpNode), callbackIn], runnable, {
      [inId]: { secret: "demo-secret-change-me" },
    });
    const got: string[] = [];
    for (const n of flow.filter((x) => x.type === "debug")) {
      helper.getNode(n.id).on("input", (msg) => got.push(`${n.name}:${msg.payload?.execution_id}`));
    }
    for (const status of ["completed", "failed", "timeout"]) {
      const res = await supertest(app!)
        .post("/agent-results")
        .set("Content-Type", "application/json")
        .set("X-Webhook-Secret", "demo-secret-change-me")
        .send(
          JSON.stringify({ agent_loop_id: "loop_abc123", agent_loop_name: "Daily Sales Report", execution_id: `exec_${status}`, status }),
        );
      assert.equal(res.status, 200, res.text);
    }
    const deadline = Date.now() + 20_000;
    while (got.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(got.sort(), ["completed:exec_completed", "failed:exec_failed", "timeout:exec_timeout"]);
  });
});
