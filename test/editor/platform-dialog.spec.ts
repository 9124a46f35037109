// callback in's Sender in a real browser: choosing a platform hides Verify, shows its tips, Fetch the
// result and the API key, gives the node a fourth output, and keeps the key out of flows.json.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { nodeRedVersion } from "../support/node-red";
import { deploy, dragFromPalette, openNode, screenshot, useEditor, forDocs } from "./support";

describe(`editor on Node-RED ${nodeRedVersion()}: callback in with a platform as Sender`, function () {
  const editor = useEditor();
  const visible = (selector: string) => editor.browser.page.locator(selector).first().isVisible();
  const apiKey = "sk-browser-typed-key-0123456789";
  let id = "";

  it("agent loop (the default): Verify shown, no platform fields, three outputs", async () => {
    const { page } = editor.browser;
    id = await dragFromPalette(page, "agent-callback-in", 200, 120);
    await openNode(page, id);
    assert.equal(await page.locator("#node-input-source").inputValue(), "agent-loop");
    assert.deepEqual(
      [await visible("#node-input-verify"), await visible("#node-input-fetchResult"), await visible("#node-input-apiKey")],
      [true, false, false],
    );
  });

  it("OpenAI: Verify hidden, the OpenAI tip and Fetch the result shown; the API key once Fetch is ticked", async () => {
    const { page } = editor.browser;
    await page.locator("#node-input-source").selectOption("openai");
    assert.deepEqual(
      [
        await visible("#node-input-verify"),
        await visible("#node-input-respond"),
        await visible(".agent-callback-in-platform-tip-openai"),
        await visible(".agent-callback-in-platform-tip-anthropic"),
        await visible("#node-input-secret"),
        await visible("#node-input-tolerance"),
        await visible("#node-input-fetchResult"),
        await visible("#node-input-apiKey"),
      ],
      [false, false, true, false, true, true, true, false],
    );
    await page.locator("#node-input-fetchResult").check();
    assert.deepEqual([await visible("#node-input-apiKey"), await visible("#node-input-apiBase")], [true, true]);
    await page.locator("#node-input-secret").fill("whsec_" + Buffer.alloc(32, 7).toString("base64"));
    await page.locator("#node-input-apiKey").fill(apiKey);
    await page.locator("#node-input-source").selectOption("anthropic");
    assert.deepEqual(
      [await visible(".agent-callback-in-platform-tip-openai"), await visible(".agent-callback-in-platform-tip-anthropic")],
      [false, true],
    );
    assert.equal(await page.locator("#node-input-apiBase").getAttribute("placeholder"), "https://api.anthropic.com/v1");
    await page.locator("#node-input-source").selectOption("openai");
    forDocs(await screenshot(page, "callback-in-openai-dialog", { locator: ".red-ui-tray" }), "callback-in-openai-dialog");
    await page.locator("#node-dialog-ok").click();
    await page.locator("#node-dialog-ok").waitFor({ state: "hidden" });
  });

  it("the node has a fourth output, other events; back to agent loop it has three", async () => {
    const { page } = editor.browser;
    const ports = () => page.locator(`g.red-ui-flow-node-group[id="${id}"] .red-ui-flow-port-output`).count();
    assert.equal(await page.evaluate(`RED.nodes.node(${JSON.stringify(id)}).outputs`), 4);
    assert.equal(await ports(), 4);
    await openNode(page, id);
    await page.locator("#node-input-source").selectOption("agent-loop");
    assert.equal(await visible("#node-input-verify"), true);
    await page.locator("#node-dialog-ok").click();
    await page.locator("#node-dialog-ok").waitFor({ state: "hidden" });
    assert.equal(await ports(), 3);
    await openNode(page, id);
    await page.locator("#node-input-source").selectOption("openai");
    await page.locator("#node-dialog-ok").click();
    await page.locator("#node-dialog-ok").waitFor({ state: "hidden" });
    assert.equal(await ports(), 4);
  });

  it("deploys with source, fetchResult and four outputs; the API key is not in flows.json", async () => {
    await deploy(editor.browser.page);
    const flowsText = readFileSync(path.join(editor.red.userDir, "flows.json"), "utf8");
    const saved = (JSON.parse(flowsText) as Record<string, unknown>[]).find((n) => n.id === id);
    assert.equal(saved?.source, "openai");
    assert.equal(saved?.fetchResult, true);
    assert.equal((saved?.wires as unknown[]).length, 4);
    assert.ok(!flowsText.includes(apiKey), "the API key is in flows.json");
    assert.ok(
      !readFileSync(path.join(editor.red.userDir, "flows_cred.json"), "utf8").includes(apiKey),
      "flows_cred.json holds the key in clear",
    );
  });
});
