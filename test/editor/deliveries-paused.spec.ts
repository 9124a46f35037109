// A paused receiver as a user sees it in a real browser (issue 22): the node's status under it on
// the canvas and the health line of the agent callbacks tab both say since when, and when it is
// tested next; when the receiver answers again both go back.
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { nodeRedVersion } from "../support/node-red";
import { Receiver } from "../support/receiver";
import { deployAndReload, forDocs, screenshot, showDeliveriesTab, startEditorNodeRed, useEditor } from "./support";
import { feedNodes } from "../support/feed-flow";
import { feedCallback } from "../support/deliveries-api";

function flows(receiverUrl: string): unknown[] {
  return [
    { id: "tab", type: "tab", label: "paused receiver" },
    ...feedNodes("out", { x: 110, y: 60 }),
    {
      id: "out",
      type: "agent-callback-out",
      z: "tab",
      name: "to the receiver",
      url: receiverUrl,
      agentLoopId: "loop_paused",
      pauseAfter: 2,
      pauseFor: 3,
      retrySchedule: [1, 1, 1],
      credentials: { secret: "paused-secret-7c7c" },
      x: 340,
      y: 60,
      wires: [[], []],
    },
  ];
}

const statusLabel = (page: Page) => page.locator('g.red-ui-flow-node-group[id="out"] .red-ui-flow-node-status-label');
const health = (page: Page) => page.locator('#agent-callback-deliveries .agent-callback-node[data-id="out"] .agent-callback-health');

describe(`editor on Node-RED ${nodeRedVersion()}: a paused receiver in the status and the agent callbacks tab`, function () {
  const receiver = new Receiver();
  before(() => receiver.start());
  const editor = useEditor(() => startEditorNodeRed({}, 0, { flows: [] }));
  after(() => receiver.stop());
  before(() => deployAndReload(editor, flows(receiver.url), "agent-callback-out"));

  it("says 'receiver paused since <time>, next test <time>' under the node and in the tab, and drops it once the receiver answers", async () => {
    const { page, red } = { page: editor.browser.page, red: editor.red };
    receiver.defaultReply = { status: 503, body: "down" };
    await feedCallback(red.url, "exec_paused_1");
    await feedCallback(red.url, "exec_paused_2");
    await statusLabel(page)
      .filter({ hasText: /^receiver paused since [\d:]{5,8}, next test [\d:]{5,8}$/ })
      .waitFor({ timeout: 20_000 });
    await showDeliveriesTab(page);
    const node = page.locator('#agent-callback-deliveries .agent-callback-node[data-id="out"]');
    await node.waitFor();
    if (!(await node.locator(".agent-callback-details").isVisible())) await node.locator(".agent-callback-toggle").click();
    await health(page)
      .filter({ hasText: /paused since [\d:]{5,8}, next test [\d:]{5,8}/ })
      .waitFor({ timeout: 20_000 });
    assert.equal(await health(page).getAttribute("data-state"), "failing");
    // A waiting callback's next attempt is no earlier than the next test: nothing goes out before it.
    const nextTest = /next test ([\d:]+)/.exec(await health(page).innerText())?.[1] ?? "";
    const next = await node.locator(".agent-callback-waiting .agent-callback-next").allInnerTexts();
    assert.ok(
      next.length > 0 && next.every((text) => (/([\d:]+)$/.exec(text)?.[1] ?? "") >= nextTest),
      `${next.join(" | ")} (next test ${nextTest})`,
    );
    forDocs(await screenshot(page, "sidebar-paused", { locator: "#agent-callback-deliveries" }), "sidebar-paused");

    receiver.defaultReply = { status: 200, body: "ok" };
    await receiver.waitFor((requests) => requests.filter((r) => r.answered === 200).length >= 2, 30_000, "both delivered");
    await statusLabel(page)
      .filter({ hasNotText: /paused/ })
      .waitFor({ timeout: 20_000 });
    await health(page)
      .filter({ hasNotText: /paused/ })
      .waitFor({ timeout: 20_000 });
  });
});
