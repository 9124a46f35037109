// The "agent callbacks" sidebar in a real browser: a failing receiver's waiting callback, retry
// now, a gave-up callback resent after a Node-RED restart, replay into the flow, simulate from
// the node's button, and a read-only user who sees everything and can act on nothing.
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { nodeRedVersion } from "../support/node-red";
import { Receiver, type Received } from "../support/receiver";
import { ADMIN, READER, adminAuthSettings, token } from "../support/admin-auth";
import { openEditor, screenshot, startEditorNodeRed, useEditor, forDocs } from "./support";
import { feedNodes } from "../support/feed-flow";

function flows(receiverUrl: string): unknown[] {
  const debug = (id: string, property: string, y: number): Record<string, unknown> => ({
    id,
    type: "debug",
    z: "tab",
    name: id,
    active: true,
    tosidebar: true,
    console: false,
    tostatus: false,
    complete: property,
    targetType: "msg",
    x: 420,
    y,
    wires: [],
  });
  return [
    { id: "tab", type: "tab", label: "agent callbacks" },
    ...feedNodes("out", { x: 110, y: 60 }),
    {
      id: "out",
      type: "agent-callback-out",
      z: "tab",
      name: "to the receiver",
      url: receiverUrl,
      agentLoopId: "loop_browser",
      agentLoopName: "Browser test",
      retrySchedule: [3600, 3600],
      x: 340,
      y: 60,
      wires: [[], []],
    },
    {
      id: "in",
      type: "agent-callback-in",
      z: "tab",
      url: "/hook",
      verify: "none",
      simulateStatus: "failed",
      x: 130,
      y: 200,
      wires: [["completed"], ["failed"], []],
    },
    debug("completed", "replayed", 180),
    debug("failed", "simulated", 220),
  ];
}

async function feed(base: string, executionId: string): Promise<void> {
  const res = await fetch(`${base}/feed`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ execution_id: executionId, status: "completed", result: { output: `output of ${executionId}` } }),
  });
  assert.equal(res.status, 200, await res.text());
}

async function showTab(page: Page): Promise<void> {
  assert.equal(await page.evaluate(`RED.sidebar.containsTab("agent-callback-deliveries")`), true);
  await page.evaluate(`RED.sidebar.show("agent-callback-deliveries")`);
  await page.locator('#agent-callback-deliveries .agent-callback-node[data-id="out"]').waitFor();
}

async function expand(page: Page, id: string): Promise<void> {
  const node = page.locator(`#agent-callback-deliveries .agent-callback-node[data-id="${id}"]`);
  if (!(await node.locator(".agent-callback-details").isVisible())) await node.locator(".agent-callback-toggle").click();
  await node.locator(".agent-callback-counts").waitFor();
}

const row = (page: Page, list: string, executionId: string) =>
  page.locator(`#agent-callback-deliveries .agent-callback-${list}[data-execution-id="${executionId}"]`);

describe(`editor on Node-RED ${nodeRedVersion()}: the agent callbacks sidebar`, function () {
  const receiver = new Receiver();
  before(() => receiver.start());
  const editor = useEditor(() => startEditorNodeRed({}, 0, { flows: flows(receiver.url) }));
  after(() => receiver.stop());
  const delivered = (id: string): Received[] => receiver.requests.filter((r) => r.json.execution_id === id && r.answered === 200);

  it("lists the deployed nodes; clicking one reveals it on the canvas", async () => {
    const { page } = editor.browser;
    await showTab(page);
    const names = await page
      .locator("#agent-callback-deliveries .agent-callback-node")
      .evaluateAll((els) => els.map((e) => e.getAttribute("data-id")));
    assert.deepEqual(names.sort(), ["in", "out"]);
    await page.locator('#agent-callback-deliveries .agent-callback-node[data-id="out"] .agent-callback-reveal').click();
    await page.waitForFunction(`RED.nodes.node("out").highlighted === true`);
  });

  it("a receiver that fails: the waiting callback shown with its attempts, next attempt and last status", async () => {
    const { page, red } = { page: editor.browser.page, red: editor.red };
    receiver.defaultReply = { status: 503, body: "down for maintenance" };
    await expand(page, "out");
    await feed(red.url, "exec_browser_1");
    const waiting = row(page, "waiting", "exec_browser_1");
    await waiting.locator(".agent-callback-last", { hasText: "HTTP 503" }).waitFor();
    assert.equal(await waiting.locator(".agent-callback-name").innerText(), "Browser test");
    assert.equal(await waiting.locator(".agent-callback-attempts").innerText(), "1 attempt", "one attempt so far");
    const nextAttempt = (await (await fetch(`${red.url}/agent-callback/out/out`)).json()) as { waiting: Array<{ nextAttempt: number }> };
    // The time alone when it is today, else with its date (past midnight, an evening run sees that).
    const expected: string = await page.evaluate(
      `(() => { const d = new Date(${nextAttempt.waiting[0]!.nextAttempt}); const t = d.toTimeString().slice(0, 8); return d.toDateString() === new Date().toDateString() ? t : d.toDateString().slice(4, 10) + " " + t; })()`,
    );
    assert.equal(await waiting.locator(".agent-callback-next").innerText(), `next attempt ${expected}`);
    await page.locator('#agent-callback-deliveries .agent-callback-health[data-state="failing"]').waitFor();
    forDocs(await screenshot(page, "sidebar-waiting", { locator: "#agent-callback-deliveries" }), "sidebar-waiting");
  });

  it("receiver fixed: retry now delivers it and it moves to delivered", async () => {
    const { page } = editor.browser;
    receiver.defaultReply = { status: 200, headers: { "Content-Type": "application/json" }, body: '{"received":true}' };
    await row(page, "waiting", "exec_browser_1").locator('button[data-action="retry"]').click();
    await receiver.waitFor(() => delivered("exec_browser_1").length === 1);
    await row(page, "delivered", "exec_browser_1").locator(".agent-callback-reply", { hasText: '{"received":true}' }).waitFor();
    assert.equal(await row(page, "waiting", "exec_browser_1").count(), 0);
    await page.locator('#agent-callback-deliveries .agent-callback-health[data-state="up"]').waitFor();
  });

  it("a gave-up callback resent after a Node-RED restart is delivered once", async () => {
    const { page, red } = { page: editor.browser.page, red: editor.red };
    receiver.replies.push({ status: 410, body: "gone" });
    await feed(red.url, "exec_browser_gone");
    await row(page, "gave-up", "exec_browser_gone").locator(".agent-callback-why", { hasText: "(HTTP 410)" }).waitFor();
    await red.restart();
    await page.reload();
    await page.locator('.red-ui-palette-node[data-palette-type="agent-callback-in"]').waitFor();
    await showTab(page);
    await expand(page, "out");
    forDocs(await screenshot(page, "sidebar-gave-up", { locator: "#agent-callback-deliveries" }), "sidebar-gave-up");
    await row(page, "gave-up", "exec_browser_gone").locator('button[data-action="resend"]').click();
    await receiver.waitFor(() => delivered("exec_browser_gone").length === 1);
    await row(page, "delivered", "exec_browser_gone").waitFor();
    assert.equal(await row(page, "gave-up", "exec_browser_gone").count(), 0);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(delivered("exec_browser_gone").length, 1, "delivered exactly once");
  });

  it("an accepted callback replayed into the flow shows in a debug node with msg.replayed", async () => {
    const { page, red } = { page: editor.browser.page, red: editor.red };
    const res = await fetch(`${red.url}/hook`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ agent_loop_id: "loop_x", agent_loop_name: "Replay me", execution_id: "exec_replay_1", status: "completed" }),
    });
    assert.equal(res.status, 200);
    await expand(page, "in");
    const accepted = page.locator(
      '#agent-callback-deliveries .agent-callback-request[data-execution-id="exec_replay_1"][data-outcome="accepted"]',
    );
    await accepted.waitFor();
    await accepted.locator('button[data-action="replay"]').click();
    await page.evaluate(`RED.sidebar.show("debug")`);
    const message = page.locator(".red-ui-debug-msg", { hasText: "msg.replayed : boolean" });
    await message.first().waitFor();
    assert.match(await message.first().innerText(), /true/);
  });

  it("simulate from the node's button reaches the output of the chosen status (failed)", async () => {
    const { page } = editor.browser;
    await page.locator('g.red-ui-flow-node-group[id="in"] .red-ui-flow-node-button').click();
    const message = page.locator(".red-ui-debug-msg", { hasText: "msg.simulated : boolean" });
    await message.first().waitFor();
    assert.match(await message.first().innerText(), /true/);
    assert.match(await message.first().innerText(), /failed/, "from the debug node on the failed output");
  });
});

describe(`editor on Node-RED ${nodeRedVersion()}: the agent callbacks sidebar in a person's words`, function () {
  const receiver = new Receiver();
  before(() => receiver.start());
  const editor = useEditor(() => startEditorNodeRed({}, 0, { flows: flows(receiver.url) }));
  after(() => receiver.stop());
  const notification = (page: Page, text: string) => page.locator(".red-ui-notification", { hasText: text });

  it("names each node and where it receives or sends: the endpoint as a full URL, the receiver as host/path", async () => {
    const { page, red } = { page: editor.browser.page, red: editor.red };
    await showTab(page);
    const head = (id: string) => page.locator(`#agent-callback-deliveries .agent-callback-node[data-id="${id}"] .agent-callback-reveal`);
    const receiverAt = receiver.url.replace(/^http:\/\//, "").replace(/\/$/, "");
    assert.equal(await head("out").innerText(), `to the receiver → ${receiverAt}`);
    assert.equal(await head("in").innerText(), `callback in → ${red.url}/hook`);
    await expand(page, "in");
    assert.equal(
      await page.locator('#agent-callback-deliveries .agent-callback-node[data-id="in"] .agent-callback-endpoint').innerText(),
      `Endpoint: ${red.url}/hook`,
    );
  });

  it("simulate and replay from the tab say where they went, and are listed in Last requests", async () => {
    const { page, red } = { page: editor.browser.page, red: editor.red };
    const posted = await fetch(`${red.url}/hook`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ agent_loop_id: "loop_x", agent_loop_name: "Nightly", execution_id: "exec_words_1", status: "completed" }),
    });
    assert.equal(posted.status, 200);
    await expand(page, "in");
    const node = page.locator('#agent-callback-deliveries .agent-callback-node[data-id="in"]');
    await node.locator('button[data-action="simulate"][data-status="failed"]').click();
    await notification(page, "sent on the node's failed output.").waitFor();
    const simulated = node.locator('.agent-callback-request[data-outcome="simulated"]');
    await simulated.waitFor();
    assert.equal(await simulated.locator(".agent-callback-outcome").innerText(), "simulated, sent on the failed output");
    assert.match(await simulated.locator(".agent-callback-id").innerText(), /^exec_sim_/);
    await node.locator('.agent-callback-request[data-outcome="accepted"] button[data-action="replay"]').click();
    await notification(page, "Replayed callback exec_words_1: sent on the node's completed output.").waitFor();
    const replayed = node.locator('.agent-callback-request[data-outcome="replayed"][data-execution-id="exec_words_1"]');
    await replayed.waitFor();
    assert.equal(await replayed.locator(".agent-callback-outcome").innerText(), "replayed, sent on the completed output");
    const counts = await node.locator(".agent-callback-counts").innerText();
    assert.equal(counts, "1 accepted · 0 duplicates · 0 refused", "a simulation or a replay is no request");
    // Refusals alike are one line with a count, and the counts say "refused" as the node does.
    for (let n = 0; n < 3; n += 1) {
      const refused = await fetch(`${red.url}/hook`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: '{"status":"done"}',
      });
      assert.equal(refused.status, 400);
    }
    await node.locator(".agent-callback-counts", { hasText: "1 accepted · 0 duplicates · 3 refused" }).waitFor();
    const folded = node.locator('.agent-callback-request[data-outcome="invalid-payload"]');
    assert.equal(await folded.count(), 1);
    assert.equal(await folded.locator(".agent-callback-id").innerText(), "(no execution_id)");
    assert.match(
      await folded.locator(".agent-callback-outcome").innerText(),
      /^refused: body does not match the callback payload \(3 times\)$/,
    );
    await page.locator('g.red-ui-flow-node-group[id="in"] .red-ui-flow-node-status-label', { hasText: "1 accepted, 3 refused" }).waitFor();
    forDocs(await screenshot(page, "sidebar-callback-in", { locator: "#agent-callback-deliveries" }), "sidebar-callback-in");
  });

  it("cancel asks first; 'keep it' keeps it waiting; a cancelled callback reads 'cancelled', not a failure", async () => {
    const { page, red } = { page: editor.browser.page, red: editor.red };
    receiver.defaultReply = { status: 503, body: "down" };
    await expand(page, "out");
    await feed(red.url, "exec_words_cancel");
    const waiting = row(page, "waiting", "exec_words_cancel");
    await waiting.locator(".agent-callback-attempts", { hasText: "1 attempt" }).waitFor();
    await waiting.locator('button[data-action="cancel"]').click();
    const ask = notification(page, "Cancel callback exec_words_cancel?");
    await ask.locator("button", { hasText: "Cancel the callback" }).waitFor();
    // The notification slides in: the picture is taken once it has.
    await page.waitForTimeout(800);
    forDocs(await screenshot(page, "sidebar-cancel-confirm"), "sidebar-cancel-confirm");
    await ask.locator("button", { hasText: "Keep it waiting" }).click();
    await ask.waitFor({ state: "detached" });
    const view = (await (await fetch(`${red.url}/agent-callback/out/out`)).json()) as { waiting: Array<{ executionId: string }> };
    assert.deepEqual(
      view.waiting.map((w) => w.executionId),
      ["exec_words_cancel"],
      "still waiting",
    );
    await waiting.locator('button[data-action="cancel"]').click();
    await notification(page, "Cancel callback exec_words_cancel?").locator("button", { hasText: "Cancel the callback" }).click();
    const cancelled = row(page, "gave-up", "exec_words_cancel");
    await cancelled.waitFor();
    assert.equal(await cancelled.getAttribute("data-why"), "cancelled");
    assert.equal(await cancelled.locator(".agent-callback-why").innerText(), "cancelled");
    assert.equal(await cancelled.locator(".agent-callback-attempts").innerText(), "1 attempt");
  });

  it("a redeploy that restarts the nodes keeps Delivered and Last requests in the tab", async () => {
    const { page, red } = { page: editor.browser.page, red: editor.red };
    receiver.defaultReply = { status: 200, headers: { "Content-Type": "application/json" }, body: '{"received":true}' };
    await feed(red.url, "exec_words_delivered");
    await row(page, "delivered", "exec_words_delivered").waitFor();
    const flowsNow = (await (await fetch(`${red.url}/flows`)).json()) as Array<Record<string, unknown>>;
    const changed = flowsNow.map((n) =>
      n.id === "in" ? { ...n, rateLimit: 500 } : n.id === "out" ? { ...n, agentLoopName: "Redeployed" } : n,
    );
    const deployed = await fetch(`${red.url}/flows`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Node-RED-Deployment-Type": "full" },
      body: JSON.stringify(changed),
    });
    assert.equal(deployed.status, 204);
    await red.waitFor(/Stopped flows[\s\S]*Started flows/);
    // The tab is rebuilt after the deploy: expand both again and find the history.
    await page.waitForTimeout(1000);
    await expand(page, "out");
    await expand(page, "in");
    await row(page, "delivered", "exec_words_delivered").waitFor();
    await page
      .locator('#agent-callback-deliveries .agent-callback-request[data-execution-id="exec_words_1"][data-outcome="accepted"]')
      .waitFor();
    assert.match(
      await page.locator('#agent-callback-deliveries .agent-callback-node[data-id="in"] .agent-callback-kept').innerText(),
      /a restart of Node-RED clears them/,
    );
    forDocs(await screenshot(page, "sidebar-delivered", { locator: "#agent-callback-deliveries" }), "sidebar-delivered");
  });
});

describe(`editor on Node-RED ${nodeRedVersion()}: the agent callbacks sidebar for a read-only user`, function () {
  const editor = useEditor(
    () => startEditorNodeRed({}, 0, { flows: flows("http://127.0.0.1:9/agent-results"), settings: adminAuthSettings() }),
    async (red) => openEditor(red, { accessToken: await token(red.url, READER, "read") }),
  );

  it("sees the nodes and their lists; every action button is disabled and the API refuses the action", async () => {
    const { page, red } = { page: editor.browser.page, red: editor.red };
    await showTab(page);
    await expand(page, "in");
    const buttons = page.locator('#agent-callback-deliveries .agent-callback-node[data-id="in"] button[data-action="simulate"]');
    assert.equal(await buttons.count(), 3);
    for (const disabled of await buttons.evaluateAll((els) => els.map((e) => e.hasAttribute("disabled")))) assert.equal(disabled, true);
    // As if the button were enabled: the request with the user's own token is refused.
    const status = await page.evaluate(`fetch("agent-callback/in/in/simulate", {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: "Bearer " + RED.settings.get("auth-tokens").access_token },
      body: JSON.stringify({ status: "completed" })
    }).then((r) => r.status)`);
    assert.equal(status, 401);
    const adminToken = await token(red.url, ADMIN);
    const asAdmin = await fetch(`${red.url}/agent-callback/in/in/simulate`, {
      method: "POST",
      headers: { Authorization: `Bearer ${adminToken}`, "Content-Type": "application/json" },
      body: JSON.stringify({ status: "completed" }),
    });
    assert.equal(asAdmin.status, 200, "the same request by an admin is done");
  });
});
