// The edit dialogs in a real browser: drag from the palette, fill in, save, deploy, use for real.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { nodeRedVersion } from "../support/node-red";
import { Receiver, completedPayload, postCallback } from "../examples/support";
import { deploy, dragFromPalette, openNode, screenshot, useEditor, forDocs } from "./support";

describe(`editor on Node-RED ${nodeRedVersion()}: edit dialogs`, function () {
  const receiver = new Receiver(() => ({ status: 200, body: JSON.stringify({ received: true, processed: true }) }));
  // Hooks run in the order registered: the receiver is up before Node-RED and stops after it.
  before(() => receiver.start());
  const editor = useEditor();
  after(() => receiver.stop());

  const visible = (selector: string) => editor.browser.page.locator(selector).first().isVisible();

  /** Types into a field and leaves it, so Node-RED validates it as a user's edit would. */
  async function type(selector: string, value: string): Promise<void> {
    const field = editor.browser.page.locator(selector);
    await field.fill(value);
    await field.dispatchEvent("change");
    await field.press("Tab");
  }

  const hasError = (selector: string) => editor.browser.page.locator(selector).evaluate((el) => el.classList.contains("input-error"));

  let inId = "";
  let outId = "";
  let secret = "";
  const token = "browser-typed-token-0123456789";

  it("callback in: dragged onto the workspace, shows only the fields of the chosen verification", async () => {
    const { page } = editor.browser;
    inId = await dragFromPalette(page, "agent-callback-in", 200, 120);
    await openNode(page, inId);
    // secret (the default): header and secret, no tolerance, no warning
    assert.equal(await page.locator("#node-input-verify").inputValue(), "secret");
    assert.deepEqual(
      [
        await visible("#node-input-secretHeader"),
        await visible("#node-input-secret"),
        await visible("#node-input-tolerance"),
        await visible("#agent-callback-in-none-warning"),
      ],
      [true, true, false, false],
    );
    await page.locator("#node-input-verify").selectOption("signature");
    assert.deepEqual(
      [await visible("#node-input-secretHeader"), await visible("#node-input-secret"), await visible("#node-input-tolerance")],
      [false, true, false],
    );
    await page.locator("#node-input-verify").selectOption("standard-webhooks");
    assert.deepEqual(
      [await visible("#node-input-secretHeader"), await visible("#node-input-secret"), await visible("#node-input-tolerance")],
      [false, true, true],
    );
    await page.locator("#node-input-verify").selectOption("none");
    assert.deepEqual(
      [
        await visible("#node-input-secretHeader"),
        await visible("#node-input-secret"),
        await visible("#node-input-tolerance"),
        await visible("#agent-callback-in-none-warning"),
      ],
      [false, false, false, true],
    );
  });

  it("callback in: marks a path without a leading / as invalid", async () => {
    await type("#node-input-url", "no-slash");
    assert.equal(await hasError("#node-input-url"), true);
    await type("#node-input-url", "/from-browser");
    assert.equal(await hasError("#node-input-url"), false);
  });

  it("callback in: on a port of its own, shows port, address and TLS, flags a bad port, and the endpoint URL with this machine's name", async () => {
    const { page } = editor.browser;
    await type("#node-input-url", "/from-browser");
    assert.equal(await page.locator("#node-input-listen").inputValue(), "node-red");
    assert.equal(await visible("#node-input-port"), false);
    await page.locator("#node-input-listen").selectOption("port");
    assert.deepEqual(
      [await visible("#node-input-port"), await visible("#node-input-host"), await visible("#node-input-tls")],
      [true, true, true],
    );
    const endpoint = async (): Promise<string> => (await page.locator("#agent-callback-in-endpoint").innerText()).trim();
    // Bound to all addresses (the default 0.0.0.0): the URL names the machine as the browser reached it.
    assert.equal(await endpoint(), "http://127.0.0.1:8443/from-browser");
    await type("#node-input-port", "70000");
    assert.equal(await hasError("#node-input-port"), true);
    await type("#node-input-port", "9443");
    assert.equal(await hasError("#node-input-port"), false);
    await type("#node-input-host", "192.0.2.7");
    assert.equal(await endpoint(), "http://192.0.2.7:9443/from-browser");
    await screenshot(page, "callback-in-dialog-own-port", { locator: ".red-ui-tray" });
    await page.locator("#node-input-listen").selectOption("node-red");
    assert.equal(await visible("#node-input-port"), false);
    assert.equal(await endpoint(), `${editor.red.url}/from-browser`);
  });

  it("callback in: filled in (path, HMAC signature, generated secret) and saved", async () => {
    const { page } = editor.browser;
    await page.locator("#node-input-verify").selectOption("signature");
    assert.equal(await page.locator("#node-input-secret").inputValue(), "");
    await page.locator("#agent-callback-in-generate").click();
    secret = await page.locator("#node-input-secret").inputValue();
    assert.ok(secret.length >= 32, `generated secret "${secret}"`);
    // The dialog shows the full endpoint URL to copy.
    assert.equal((await page.locator("#agent-callback-in-endpoint").innerText()).trim(), `${editor.red.url}/from-browser`);
    forDocs(await screenshot(page, "callback-in-dialog", { locator: ".red-ui-tray" }), "callback-in-dialog");
    await page.locator("#node-dialog-ok").click();
    await page.locator("#node-dialog-ok").waitFor({ state: "hidden" });
  });

  it("callback out: shows the signing key only when a signature is chosen, and marks invalid input", async () => {
    const { page } = editor.browser;
    outId = await dragFromPalette(page, "agent-callback-out", 420, 220);
    await openNode(page, outId);
    assert.equal(await page.locator("#node-input-signature").inputValue(), "none");
    assert.equal(await visible("#node-input-signingKey"), false);
    await page.locator("#node-input-signature").selectOption("hmac-sha256");
    assert.equal(await visible("#node-input-signingKey"), true);
    await page.locator("#node-input-signature").selectOption("standard-webhooks");
    assert.equal(await visible("#node-input-signingKey"), true);
    await page.locator("#node-input-signature").selectOption("none");
    assert.equal(await visible("#node-input-signingKey"), false);

    await type("#node-input-url", "ftp://files.example/agent");
    assert.equal(await hasError("#node-input-url"), true);
    await type("#node-input-url", "not a url");
    assert.equal(await hasError("#node-input-url"), true);

    await type("#node-input-retryScheduleText", "5, soon, 60");
    assert.equal(await hasError("#node-input-retryScheduleText"), true);
    await type("#node-input-retryScheduleText", "0.5, 2, 10");
    assert.equal(await hasError("#node-input-retryScheduleText"), false);
    assert.match(await page.locator("#agent-callback-out-schedule-summary").innerText(), /4 tries/);
  });

  it("callback out: filled in (URL, a header, a token) and saved", async () => {
    const { page } = editor.browser;
    await type("#node-input-url", `${receiver.url}/agent-results`);
    assert.equal(await hasError("#node-input-url"), false);
    // Headers are among the advanced fields, folded until opened.
    await page.locator("#agent-callback-out-advanced-toggle").click();
    await page.locator(".red-ui-editableList-addButton").first().click();
    const row = page.locator("#node-input-headers-container .agent-callback-out-header-row").last();
    await row.locator(".node-input-header-name").fill("X-Custom-Header");
    await row.locator(".node-input-header-value").fill("from-the-browser");
    await page.locator("#node-input-token").fill(token);
    await type("#node-input-agentLoopId", "loop_browser");
    await screenshot(page, "callback-out-dialog", { locator: ".red-ui-tray" });
    await page.locator("#node-dialog-ok").click();
    await page.locator("#node-dialog-ok").waitFor({ state: "hidden" });
  });

  it("deploys, and the flows file holds no secret", async () => {
    await deploy(editor.browser.page);
    const flowsText = readFileSync(path.join(editor.red.userDir, "flows.json"), "utf8");
    const flows = JSON.parse(flowsText) as Record<string, unknown>[];
    const saved = flows.find((n) => n.id === inId);
    const savedOut = flows.find((n) => n.id === outId);
    assert.equal(saved?.url, "/from-browser");
    assert.equal(saved?.verify, "signature");
    assert.equal(savedOut?.url, `${receiver.url}/agent-results`);
    assert.deepEqual(savedOut?.headers, [{ name: "X-Custom-Header", value: "from-the-browser" }]);
    assert.deepEqual(savedOut?.retrySchedule, [0.5, 2, 10]);
    assert.ok(!flowsText.includes(secret), "the generated secret is in flows.json");
    assert.ok(!flowsText.includes(token), "the token is in flows.json");
    const credText = readFileSync(path.join(editor.red.userDir, "flows_cred.json"), "utf8");
    assert.ok(!credText.includes(secret) && !credText.includes(token), "flows_cred.json holds a secret in clear text");
  });

  it("callback in: the deployed endpoint answers a real POST signed with the generated secret", async () => {
    const payload = completedPayload("exec_from_browser_test");
    const body = JSON.stringify(payload);
    const signature = `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
    const res = await fetch(`${editor.red.url}/from-browser`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Signature": signature },
      body,
    });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { received: true });
    const wrong = await postCallback(editor.red, "/from-browser", payload, { "X-Signature": "sha256=00" });
    assert.equal(wrong.status, 401);
  });

  it("callback out: the send test button reaches the receiver and the notification shows the reply", async () => {
    const { page } = editor.browser;
    // Let the deploy notification go, so the reply's notification stands alone in the screenshot.
    await page.locator(".red-ui-notification", { hasText: "Successfully deployed" }).waitFor({ state: "hidden" });
    await page.locator(`g.red-ui-flow-node-group[id="${outId}"] .red-ui-flow-node-button`).click();
    const note = page.locator(".red-ui-notification", { hasText: "Test callback to" });
    await note.waitFor();
    const text = await note.innerText();
    assert.match(text, new RegExp(`${receiver.url}/agent-results: HTTP 200`));
    assert.match(text, /\{"received":true,"processed":true\}/);
    const request = receiver.requests.at(-1);
    assert.equal(request?.method, "POST");
    assert.equal(request?.url, "/agent-results");
    assert.equal(request?.headers["x-custom-header"], "from-the-browser");
    assert.equal(request?.headers.authorization, `Bearer ${token}`);
    const sent = JSON.parse(request?.body ?? "{}") as Record<string, unknown>;
    assert.equal(sent.agent_loop_name, "Daily Sales Report");
    assert.equal(sent.status, "completed");
    await page.mouse.move(700, 600);
    // The notification slides in (a jQuery animation): let it settle before the picture.
    await page.waitForFunction("window.$ && $('.red-ui-notification:animated').length === 0");
    forDocs(await screenshot(page, "send-test"), "send-test");
  });
});
