// What a non-programmer sees in the edit dialogs: a generated secret readable and copyable, no raw
// message key anywhere (dialogs, help, the copy confirmation), callback out's fields in the order a
// first callback needs them.
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { nodeRedVersion } from "../support/node-red";
import { Receiver } from "../examples/support";
import { deploy, dragFromPalette, openNode, screenshot, useEditor, forDocs } from "./support";

/** Text that looks like a message key of ours rather than words: "agent-callback-in.label.copy", "tip.secret". */
const RAW_KEY =
  /agent-callback-[\w-]*\.[\w.-]+|\b(?:label|tip|placeholder|status|errors|warn|causes|schedule|outputs|signature|verify|respond|listen|simulate|test|log)\.[a-z][\w-]*\b/;

/** The visible text of the elements matched by `selector`, with the titles and placeholders shown inside them. */
async function shownText(page: Page, selector: string): Promise<string> {
  return page.evaluate(`[...document.querySelectorAll(${JSON.stringify(selector)})]
    .map((el) => [el.innerText, ...[...el.querySelectorAll("[title], [placeholder]")]
      .filter((e) => e.offsetParent !== null)
      .map((e) => (e.getAttribute("title") || "") + " " + (e.getAttribute("placeholder") || ""))].join("\\n"))
    .join("\\n")`);
}

function assertNoRawKey(text: string, where: string): void {
  const found = RAW_KEY.exec(text);
  assert.equal(found, null, `${where} shows "${found?.[0]}" (a message key, not words)`);
}

describe(`editor on Node-RED ${nodeRedVersion()}: secrets, words and order in the dialogs`, function () {
  const editor = useEditor();
  let inId = "";
  let outId = "";

  before(async () => {
    await editor.browser.context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: editor.red.url });
  });

  const clipboard = (): Promise<string> => editor.browser.page.evaluate("navigator.clipboard.readText()");

  /** Clicks a copy button and returns the confirmation it shows beside the button. */
  async function copyWith(button: string): Promise<string> {
    const { page } = editor.browser;
    await page.locator(button).click();
    const popover = page.locator(".red-ui-popover").last();
    await popover.waitFor();
    const text = (await popover.innerText()).trim();
    await popover.waitFor({ state: "hidden" });
    return text;
  }

  it("callback in: generate shows the secret in clear, copy puts it on the clipboard with a sentence, the eye hides it", async () => {
    const { page } = editor.browser;
    inId = await dragFromPalette(page, "agent-callback-in", 200, 120);
    await openNode(page, inId);
    const field = page.locator("#node-input-secret");
    assert.equal(await field.getAttribute("type"), "password");
    assert.equal(await page.locator("#agent-callback-in-secret-copy").isDisabled(), true, "copy is offered with nothing to copy");
    await page.locator("#agent-callback-in-generate").click();
    const secret = await field.inputValue();
    assert.ok(secret.length >= 32, `generated secret "${secret}"`);
    assert.equal(await field.getAttribute("type"), "text", "the generated secret is shown as dots");
    // Who the secret is for is said beside it.
    assert.match(await shownText(page, ".agent-callback-in-secret-row"), /Give this secret to the agent platform that sends the callbacks/);

    const confirmation = await copyWith("#agent-callback-in-secret-copy");
    assert.equal(confirmation, "Copied to the clipboard.");
    assert.equal(await clipboard(), secret);
    forDocs(await screenshot(page, "callback-in-secret", { locator: ".red-ui-tray" }), "callback-in-secret");

    await page.locator("#agent-callback-in-secret-show").click();
    assert.equal(await field.getAttribute("type"), "password");
    await page.locator("#agent-callback-in-secret-show").click();
    assert.equal(await field.getAttribute("type"), "text");

    // Standard Webhooks: a whsec_ key, shown the same way.
    await page.locator("#node-input-verify").selectOption("standard-webhooks");
    await page.locator("#agent-callback-in-generate").click();
    assert.match(await field.inputValue(), /^whsec_[A-Za-z0-9+/]{32}$/);
    assert.equal(await field.getAttribute("type"), "text");
  });

  it("callback in: the endpoint's copy button confirms in words, not with a message key", async () => {
    const { page } = editor.browser;
    const confirmation = await copyWith("#agent-callback-in-copy");
    assert.equal(confirmation, "Copied to the clipboard.");
    assert.equal(await clipboard(), (await page.locator("#agent-callback-in-endpoint").innerText()).trim());
  });

  it("callback in: neither the dialog nor its help shows a message key", async () => {
    const { page } = editor.browser;
    for (const verify of ["secret", "signature", "standard-webhooks", "none"]) {
      await page.locator("#node-input-verify").selectOption(verify);
      assertNoRawKey(await shownText(page, ".red-ui-tray"), `callback in's dialog (verify ${verify})`);
    }
    await page.locator("#node-input-listen").selectOption("port");
    assertNoRawKey(await shownText(page, ".red-ui-tray"), "callback in's dialog (own port)");
    await page.locator("#node-dialog-cancel").click();
    await page.locator("#node-dialog-ok").waitFor({ state: "hidden" });
  });

  it("callback out: URL, then secret or token, then the rest; the advanced fields folded under a heading after them", async () => {
    const { page } = editor.browser;
    outId = await dragFromPalette(page, "agent-callback-out", 420, 220);
    await openNode(page, outId);
    // The tray slides in (a jQuery animation): read the order once it is in place.
    await page.waitForFunction("$('.red-ui-tray:animated, .red-ui-tray :animated').length === 0");
    const order = async () =>
      page
        .locator(".red-ui-tray #dialog-form label[for^='node-input-']:visible, #agent-callback-out-advanced-toggle")
        .evaluateAll((els) =>
          els.map((el) => (el.id === "agent-callback-out-advanced-toggle" ? "(advanced)" : (el.getAttribute("for") ?? ""))),
        );
    const folded = await order();
    assert.deepEqual(
      folded.slice(0, 4),
      ["node-input-url", "node-input-secretHeader", "node-input-secret", "node-input-token"],
      folded.join(", "),
    );
    assert.equal(folded.at(-1), "(advanced)", `the advanced heading comes last: ${folded.join(", ")}`);
    for (const advanced of ["allowedOriginsText", "proxy", "tls", "concurrency", "maxQueue"]) {
      assert.ok(!folded.includes(`node-input-${advanced}`), `${advanced} is shown before the advanced fields are opened`);
    }
    assert.equal(await page.locator("#node-input-leaseSeconds").isVisible(), false, "Lease is shown without a store");
    assert.equal(await page.locator(".node-input-headers-container-row").isVisible(), false);

    await page.locator("#agent-callback-out-advanced-toggle").click();
    const opened = await order();
    const at = (field: string) => opened.indexOf(`node-input-${field}`);
    const heading = opened.indexOf("(advanced)");
    for (const field of ["url", "secret", "token", "signature", "agentLoopId", "timeout", "retryScheduleText", "store", "name"]) {
      assert.ok(at(field) !== -1 && at(field) < heading, `${field} is not before the advanced heading: ${opened.join(", ")}`);
    }
    for (const field of ["allowedOriginsText", "proxy", "tls", "concurrency", "maxQueue"]) {
      assert.ok(at(field) > heading, `${field} is not under the advanced heading: ${opened.join(", ")}`);
    }
    assert.equal(await page.locator(".node-input-headers-container-row").isVisible(), true);
    assertNoRawKey(await shownText(page, ".red-ui-tray"), "callback out's dialog");
  });

  it("callback out: the Agent loop ID placeholder says what an empty field uses", async () => {
    const placeholder = await editor.browser.page.locator("#node-input-agentLoopId").getAttribute("placeholder");
    assert.match(placeholder ?? "", /empty.*Name.*id/);
  });

  it("callback out: generate shows the signing key in clear, ready to copy, and says who needs it", async () => {
    const { page } = editor.browser;
    await page.locator("#node-input-signature").selectOption("standard-webhooks");
    await page.locator("#agent-callback-out-signingKey-generate").click();
    const key = page.locator("#node-input-signingKey");
    assert.match(await key.inputValue(), /^whsec_[A-Za-z0-9+/]{32}$/);
    assert.equal(await key.getAttribute("type"), "text");
    assert.equal(await copyWith("#agent-callback-out-signingKey-copy"), "Copied to the clipboard.");
    assert.equal(await clipboard(), await key.inputValue());
    assert.match(await shownText(page, ".red-ui-tray"), /The receiver must know the same secret, token or signing key/);

    // A typed token: hidden until the eye shows it.
    const token = page.locator("#node-input-token");
    await token.fill("typed-token");
    assert.equal(await token.getAttribute("type"), "password");
    await page.locator("#agent-callback-out-token-show").click();
    assert.equal(await token.getAttribute("type"), "text");
    assertNoRawKey(await shownText(page, ".red-ui-tray"), "callback out's dialog (signature)");
    // A window tall enough for the whole dialog, advanced fields open, in one picture.
    await page.setViewportSize({ width: 1760, height: 1900 });
    await page.locator("#node-input-url").fill("https://receiver.example.com/agent-results");
    await page.locator("#agent-callback-out-advanced-toggle").scrollIntoViewIfNeeded();
    forDocs(await screenshot(page, "callback-out-dialog-full", { locator: ".red-ui-tray" }), "callback-out-dialog");
    await page.setViewportSize({ width: 1760, height: 960 });
    await page.locator("#node-dialog-cancel").click();
    await page.locator("#node-dialog-ok").waitFor({ state: "hidden" });
  });

  it("callback out: Lease is shown only with a callback store chosen", async () => {
    const { page } = editor.browser;
    await page.evaluate(
      `RED.view.importNodes([{ id: "a1b2c3d4e5f60718", type: "agent-callback-store", name: "shared", url: "redis://127.0.0.1:6379/0" }])`,
    );
    await openNode(page, outId);
    assert.equal(await page.locator("#node-input-leaseSeconds").isVisible(), false);
    await page.locator("#node-input-store").selectOption("a1b2c3d4e5f60718");
    assert.equal(await page.locator("#node-input-leaseSeconds").isVisible(), true);
    await page.locator("#node-dialog-cancel").click();
    await page.locator("#node-dialog-ok").waitFor({ state: "hidden" });
  });

  it("callback store: the dialog shows no message key", async () => {
    const { page } = editor.browser;
    await page.evaluate(`RED.editor.editConfig("", "agent-callback-store", "a1b2c3d4e5f60718")`);
    await page.locator("#node-config-dialog-ok").waitFor({ state: "visible" });
    assertNoRawKey(await shownText(page, ".red-ui-tray"), "callback store's dialog");
    await page.locator("#node-config-dialog-cancel").click();
    await page.locator("#node-config-dialog-ok").waitFor({ state: "hidden" });
  });

  it("callback in: a saved secret is not shown again, and the eye says so instead of showing a placeholder", async () => {
    const { page } = editor.browser;
    await openNode(page, inId);
    await page.locator("#node-input-verify").selectOption("secret");
    await page.locator("#agent-callback-in-generate").click();
    await page.locator("#node-dialog-ok").click();
    await page.locator("#node-dialog-ok").waitFor({ state: "hidden" });
    await deploy(page);
    await openNode(page, inId);
    assert.equal(await page.locator("#agent-callback-in-secret-copy").isDisabled(), true);
    await page.locator("#agent-callback-in-secret-show").click();
    assert.equal(await page.locator("#node-input-secret").getAttribute("type"), "password");
    assert.match(await shownText(page, "#agent-callback-in-secret-saved"), /The saved secret is not shown again/);
    await page.locator("#node-dialog-cancel").click();
    await page.locator("#node-dialog-ok").waitFor({ state: "hidden" });
  });

  it("callback out: send test to a receiver that answers 401 says first what it means, then the status line", async () => {
    const { page } = editor.browser;
    const receiver = new Receiver(() => ({ status: 401, body: '{"error":"unauthorized"}' }));
    await receiver.start();
    try {
      await openNode(page, outId);
      await page.locator("#node-input-url").fill(`${receiver.url}/agent-results`);
      await page.locator("#node-dialog-ok").click();
      await page.locator("#node-dialog-ok").waitFor({ state: "hidden" });
      await page.locator(".red-ui-notification", { hasText: "Successfully deployed" }).waitFor({ state: "hidden" });
      await deploy(page);
      await page.locator(`g.red-ui-flow-node-group[id="${outId}"] .red-ui-flow-node-button`).click();
      const note = page.locator(".red-ui-notification", { hasText: "Test callback to" });
      await note.waitFor();
      const text = (await note.innerText()).trim();
      assert.match(
        text,
        /^The receiver refused the callback as not authorized \(HTTP 401\)\. Check that Secret, Bearer token or Signing key match/,
      );
      assert.match(text, new RegExp(`Test callback to ${receiver.url}/agent-results: HTTP 401`));
      assertNoRawKey(text, "the send test's notification");
    } finally {
      await receiver.stop();
    }
  });

  for (const type of ["agent-callback-in", "agent-callback-out", "agent-callback-store"]) {
    it(`the help of ${type} shows no message key`, async () => {
      const { page } = editor.browser;
      await page.evaluate(`RED.sidebar.help.show(${JSON.stringify(type)})`);
      const help = page.locator(".red-ui-help").filter({ visible: true }).first();
      await help.waitFor();
      await page.waitForFunction(`[...document.querySelectorAll(".red-ui-help")].some((el) => el.innerText.length > 200)`);
      assertNoRawKey(await help.innerText(), `the help of ${type}`);
    });
  }
});
