// The "agent callbacks" sidebar in a real browser for a callback out whose outbox is the shared
// queue in a callback store (a real redis-server): the callback waiting in Redis is shown, and
// retry now from the tab delivers it.
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { nodeRedVersion } from "../support/node-red";
import { Receiver, type Received } from "../support/receiver";
import { RedisServer } from "../support/redis-server";
import { screenshot, showDeliveriesTab, startEditorNodeRed, useEditor } from "./support";

function flows(redisUrl: string, receiverUrl: string): unknown[] {
  return [
    { id: "tab", type: "tab", label: "store" },
    {
      id: "feed",
      type: "http in",
      z: "tab",
      url: "/feed",
      method: "post",
      upload: false,
      swaggerDoc: "",
      x: 110,
      y: 60,
      wires: [["out", "ack"]],
    },
    { id: "ack", type: "http response", z: "tab", statusCode: "200", headers: {}, x: 330, y: 100, wires: [] },
    { id: "store", type: "agent-callback-store", url: redisUrl, prefix: "agent-callback:" },
    {
      id: "out",
      type: "agent-callback-out",
      z: "tab",
      name: "through redis",
      url: receiverUrl,
      store: "store",
      agentLoopId: "loop_store_browser",
      agentLoopName: "Store browser test",
      retrySchedule: [3600, 3600],
      x: 340,
      y: 60,
      wires: [[], []],
    },
  ];
}

const row = (page: Page, list: string, executionId: string) =>
  page.locator(`#agent-callback-deliveries .agent-callback-${list}[data-execution-id="${executionId}"]`);

describe(`editor on Node-RED ${nodeRedVersion()}: the agent callbacks sidebar for callback out with a callback store`, function () {
  const redis = new RedisServer();
  const receiver = new Receiver();
  before(async () => {
    await redis.start();
    await receiver.start();
  });
  const editor = useEditor(() => startEditorNodeRed({}, 0, { flows: flows(redis.url, receiver.url) }));
  after(async () => {
    await receiver.stop();
    await redis.stop();
    redis.cleanup();
  });
  const delivered = (id: string): Received[] => receiver.requests.filter((r) => r.json.execution_id === id && r.answered === 200);

  it("shows the callback waiting in Redis; retry now delivers it", async () => {
    const { page, red } = { page: editor.browser.page, red: editor.red };
    receiver.defaultReply = { status: 503, body: "down" };
    const res = await fetch(`${red.url}/feed`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ execution_id: "exec_store_browser", status: "completed", result: { output: "hi" } }),
    });
    assert.equal(res.status, 200);
    await showDeliveriesTab(page);
    const node = page.locator('#agent-callback-deliveries .agent-callback-node[data-id="out"]');
    await node.locator(".agent-callback-toggle").click();
    const waiting = row(page, "waiting", "exec_store_browser");
    await waiting.locator(".agent-callback-last", { hasText: "HTTP 503" }).waitFor();
    assert.equal(await waiting.locator(".agent-callback-name").innerText(), "Store browser test");
    assert.equal(await waiting.locator(".agent-callback-attempts").innerText(), "1 attempt");
    assert.match(await node.locator(".agent-callback-shared").innerText(), /callback store/);
    await screenshot(page, "sidebar-store-waiting", { locator: "#agent-callback-deliveries" });
    receiver.defaultReply = { status: 200, headers: { "Content-Type": "application/json" }, body: '{"received":true}' };
    await waiting.locator('button[data-action="retry"]').click();
    await receiver.waitFor(() => delivered("exec_store_browser").length === 1);
    await row(page, "delivered", "exec_store_browser").waitFor();
    assert.equal(await row(page, "waiting", "exec_store_browser").count(), 0);
  });
});
