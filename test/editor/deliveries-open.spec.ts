// The "agent callbacks" sidebar in a real browser (issue 22): a waiting, a gave-up and a delivered
// callback open to show their payload and attempts, a request to callback in opens to show its
// headers and body, no secret is anywhere in the page, and the chart's bars match the counts.
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { nodeRedVersion } from "../support/node-red";
import { Receiver } from "../support/receiver";
import { deployAndReload, screenshot, showDeliveriesTab, startEditorNodeRed, useEditor, forDocs } from "./support";
import { feedNodes } from "../support/feed-flow";
import { feedCallback } from "../support/deliveries-api";

const OUT_SECRET = "out-secret-browser-4f4f";
const SIGNING_KEY = "signing-key-browser-5e5e";
const IN_SECRET = "in-secret-browser-6d6d";

function flows(receiverUrl: string): unknown[] {
  return [
    { id: "tab", type: "tab", label: "agent callbacks" },
    ...feedNodes("out", { x: 110, y: 60 }),
    {
      id: "out",
      type: "agent-callback-out",
      z: "tab",
      name: "to the receiver",
      url: receiverUrl,
      agentLoopId: "loop_open",
      agentLoopName: "Open test",
      signature: "hmac-sha256",
      retrySchedule: [3600, 3600],
      credentials: { secret: OUT_SECRET, signingKey: SIGNING_KEY },
      x: 340,
      y: 60,
      wires: [[], []],
    },
    {
      id: "in",
      type: "agent-callback-in",
      z: "tab",
      url: "/hook",
      verify: "secret",
      credentials: { secret: IN_SECRET },
      x: 130,
      y: 200,
      wires: [[], [], []],
    },
  ];
}

const node = (page: Page, id: string) => page.locator(`#agent-callback-deliveries .agent-callback-node[data-id="${id}"]`);
const row = (page: Page, list: string, executionId: string) =>
  page.locator(`#agent-callback-deliveries .agent-callback-${list}[data-execution-id="${executionId}"]`);

async function expand(page: Page, id: string): Promise<void> {
  await showDeliveriesTab(page);
  await node(page, id).waitFor();
  if (!(await node(page, id).locator(".agent-callback-details").isVisible()))
    await node(page, id).locator(".agent-callback-toggle").click();
  await node(page, id).locator(".agent-callback-counts").waitFor();
}

/** Sum of the chart's bars of `series` drawn for node `id`. */
function barsTotal(page: Page, id: string, series: string): Promise<number> {
  return node(page, id)
    .locator(`.agent-callback-bar[data-series="${series}"]`)
    .evaluateAll((bars) => bars.reduce((sum, b) => sum + Number(b.getAttribute("data-count")), 0));
}

describe(`editor on Node-RED ${nodeRedVersion()}: a callback and a request opened in the sidebar`, function () {
  const receiver = new Receiver();
  before(() => receiver.start());
  const editor = useEditor(() => startEditorNodeRed({}, 0, { flows: [] }));
  after(() => receiver.stop());
  before(() => deployAndReload(editor, flows(receiver.url), "agent-callback-in"));

  it("a waiting callback opens to show its pretty payload and its failed attempt with the reply", async () => {
    const { page, red } = { page: editor.browser.page, red: editor.red };
    receiver.replies.push({ status: 503, body: "down for maintenance" });
    await expand(page, "out");
    await feedCallback(red.url, "exec_open_wait");
    const waiting = row(page, "waiting", "exec_open_wait");
    await waiting.locator(".agent-callback-last", { hasText: "HTTP 503" }).waitFor();
    await waiting.locator(".agent-callback-open").click();
    await waiting.locator(".agent-callback-attempt", { hasText: "HTTP 503" }).waitFor();
    const payload = await waiting.locator(".agent-callback-payload").innerText();
    assert.match(payload, /\n {2}"execution_id": "exec_open_wait"/, "pretty JSON");
    assert.equal(await waiting.locator(".agent-callback-attempt-reply").innerText(), "down for maintenance");
    forDocs(await screenshot(page, "sidebar-callback-open", { locator: "#agent-callback-deliveries" }), "sidebar-callback-open");
  });

  it("a gave-up callback opens with its attempt; its cause in plain words", async () => {
    const { page, red } = { page: editor.browser.page, red: editor.red };
    receiver.replies.push({ status: 410, body: "gone" });
    await feedCallback(red.url, "exec_open_gone");
    const gone = row(page, "gave-up", "exec_open_gone");
    await gone.locator(".agent-callback-why", { hasText: "The receiver refused the callback (HTTP 410)" }).waitFor();
    await gone.locator(".agent-callback-open").click();
    await gone.locator(".agent-callback-attempt", { hasText: "HTTP 410" }).waitFor();
    assert.match(await gone.locator(".agent-callback-payload").innerText(), /exec_open_gone/);
  });

  it("delivered after retry now, it opens with both attempts; opened while waiting, it stays open", async () => {
    const { page } = editor.browser;
    receiver.replies.push({ status: 200, headers: { "Content-Type": "application/json" }, body: '{"thanks":true}' });
    await row(page, "waiting", "exec_open_wait").locator('button[data-action="retry"]').click();
    const delivered = row(page, "delivered", "exec_open_wait");
    await delivered.waitFor();
    // Opened while it waited (the first test): it stays open in the delivered list, no click needed.
    await delivered.locator(".agent-callback-attempt", { hasText: "HTTP 200" }).waitFor();
    assert.equal(await delivered.locator(".agent-callback-attempt").count(), 2);
    assert.equal(await delivered.locator(".agent-callback-attempt-reply").last().innerText(), '{"thanks":true}');
  });

  it("the chart's bars add up to the deliveries and failed attempts of the last hour", async () => {
    const { page } = editor.browser;
    await page.waitForFunction(
      `document.querySelectorAll('.agent-callback-node[data-id="out"] .agent-callback-bar[data-series="delivered"]').length > 0`,
    );
    assert.equal(await barsTotal(page, "out", "delivered"), 1);
    assert.equal(await barsTotal(page, "out", "failed"), 2, "the 503 and the 410");
    // Each bar says what it counts in the editor's language (the catalog's words, not code).
    const tips = await node(page, "out")
      .locator(".agent-callback-bar title")
      .evaluateAll((titles) => titles.map((t) => t.textContent));
    // (A minute may have turned since the attempts: 0 or 1 min ago.)
    assert.ok(
      tips.some((tip) => /^1 delivered, [01] min ago$/.test(String(tip))),
      tips.join(" | "),
    );
    assert.ok(
      tips.some((tip) => /^\d failed attempts, [01] min ago$/.test(String(tip))),
      tips.join(" | "),
    );
  });

  it("a request to callback in opens to show its headers (no secret) and its body; the chart counts it", async () => {
    const { page, red } = { page: editor.browser.page, red: editor.red };
    const post = (secret: string): Promise<Response> =>
      fetch(`${red.url}/hook`, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-Webhook-Secret": secret, "X-Trace": "trace-browser" },
        body: JSON.stringify({
          agent_loop_id: "loop_1",
          agent_loop_name: "Nightly",
          execution_id: "exec_in_browser",
          status: "completed",
          result: { output: "hi" },
        }),
      });
    assert.equal((await post(IN_SECRET)).status, 200);
    assert.equal((await post("not-the-secret")).status, 401);
    await expand(page, "in");
    const request = row(page, "request", "exec_in_browser");
    await request.locator(".agent-callback-open").click();
    const headers = request.locator(".agent-callback-headers");
    await headers.waitFor();
    assert.match(await headers.innerText(), /x-trace: trace-browser/);
    assert.match(await headers.innerText(), /x-webhook-secret: \(not shown/);
    assert.match(await request.locator(".agent-callback-payload").innerText(), /"execution_id": "exec_in_browser"/);
    await page.waitForFunction(`document.querySelectorAll('.agent-callback-node[data-id="in"] .agent-callback-bar').length >= 2`);
    assert.deepEqual([await barsTotal(page, "in", "accepted"), await barsTotal(page, "in", "refused")], [1, 1]);
    forDocs(await screenshot(page, "sidebar-request-open", { locator: "#agent-callback-deliveries" }), "sidebar-request-open");
  });

  it("no secret anywhere in the page", async () => {
    const html = await editor.browser.page.content();
    for (const secret of [OUT_SECRET, SIGNING_KEY, IN_SECRET, "not-the-secret"])
      assert.ok(!html.includes(secret), `the page holds ${secret}`);
  });
});
