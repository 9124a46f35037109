// The palette and the help sidebar in a real browser, with the plugin installed from npm pack.
import assert from "node:assert/strict";
import { nodeRedVersion } from "../support/node-red";
import { screenshot, useEditor, forDocs } from "./support";

const NODES = [
  { type: "agent-callback-in", label: "callback in", icon: "callback-in.svg", help: ["Inputs", "Outputs", "Details"] },
  { type: "agent-callback-out", label: "callback out", icon: "callback-out.svg", help: ["Inputs", "Outputs", "Details"] },
];

describe(`editor on Node-RED ${nodeRedVersion()}: palette and help`, function () {
  const editor = useEditor();

  for (const node of NODES) {
    it(`shows "${node.label}" with its own icon in the "agent callback" category`, async () => {
      const { page } = editor.browser;
      const entry = page.locator(`.red-ui-palette-node[data-palette-type="${node.type}"]`);
      assert.equal(await entry.getAttribute("data-palette-label"), node.label);
      const category = page.locator(".red-ui-palette-category", { has: entry });
      assert.equal((await category.locator(".red-ui-palette-header").innerText()).trim(), "agent callback");
      const iconPath = `icons/node-red-contrib-agent-callback/${node.icon}`;
      assert.equal(await entry.locator(".red-ui-palette-icon-container").getAttribute("data-palette-icon"), iconPath);
      // The browser gets the SVG itself, not Node-RED's default arrow.
      const icon = await page.evaluate(async (url) => {
        const res = await fetch(url);
        return { status: res.status, type: res.headers.get("content-type"), body: await res.text() };
      }, iconPath);
      assert.equal(icon.status, 200);
      assert.match(String(icon.type), /image\/svg\+xml/);
      assert.match(icon.body, /<svg[\s>]/);
    });

    it(`shows the help of "${node.label}" in the help sidebar`, async () => {
      const { page } = editor.browser;
      const entry = page.locator(`.red-ui-palette-node[data-palette-type="${node.type}"]`);
      await entry.scrollIntoViewIfNeeded();
      await entry.hover();
      // The popover of this node (the previous one may still be fading out).
      await page
        .locator(".red-ui-popover", { hasText: `${node.type}` })
        .locator("button:has(i.fa-book)")
        .click();
      const help = page
        .locator(".red-ui-help", { hasText: node.help[0] as string })
        .filter({ hasText: node.label })
        .filter({ visible: true })
        .first();
      await help.waitFor();
      const text = await help.innerText();
      for (const heading of node.help) assert.match(text, new RegExp(`^${heading}$`, "m"), `help lacks "${heading}"`);
      await page.mouse.move(700, 400);
    });
  }

  it("takes a screenshot of the palette", async () => {
    const { page } = editor.browser;
    await page.locator("#red-ui-palette-search input").pressSequentially("callback");
    await page.locator('.red-ui-palette-node[data-palette-type="inject"]').waitFor({ state: "hidden" });
    // Categories without a match slide shut; wait until they are gone so the picture is still.
    await page.locator("#red-ui-palette-container-common").waitFor({ state: "hidden" });
    await page.locator("#red-ui-palette-container-function").waitFor({ state: "hidden" });
    await page.mouse.move(700, 400);
    forDocs(await screenshot(page, "palette", { locator: "#red-ui-palette" }), "palette");
    await page.locator("#red-ui-palette-search input").fill("");
  });
});
