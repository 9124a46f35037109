// The editor in German and in Japanese (the browser's language): the palette label, the edit
// dialog's labels and the help sidebar come from that language's catalog and help page.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { repoRoot } from "../support/node-red";
import { openEditor, openNode, screenshot, showDeliveriesTab, startEditorNodeRed, useEditor, forDocs } from "./support";

type Labels = Record<string, string>;

function catalog(lang: string): { label: Labels; palette: string; category: string } {
  const file = path.join(repoRoot, "nodes", "locales", lang, "callback-in.json");
  const json = JSON.parse(readFileSync(file, "utf8")) as { "agent-callback-in": { label: Labels }; palette: { label: Labels } };
  const label = json["agent-callback-in"].label;
  return { label, palette: label.palette ?? "<none>", category: json.palette.label.agent_callback ?? "<none>" };
}

/** The first sentence of the help page's first paragraph, as the browser shows it (tags and line breaks gone). */
function helpOpening(lang: string): string {
  const page = readFileSync(path.join(repoRoot, "nodes", "locales", lang, "callback-in.html"), "utf8");
  const first = /<p>([\s\S]*?)<\/p>/.exec(page)?.[1] ?? "";
  return first
    .replace(/<[^>]+>/g, "")
    .replace(/\s+/g, " ")
    .trim()
    .slice(0, 30);
}

const NODE_ID = "lang-in";
const FLOWS = [
  { id: "lang-tab", type: "tab", label: "Flow 1" },
  { id: NODE_ID, type: "agent-callback-in", z: "lang-tab", url: "/agent-results", verify: "secret", x: 220, y: 120, wires: [[], [], []] },
  { id: "lang-open", type: "agent-callback-in", z: "lang-tab", url: "/lang-open", verify: "none", x: 220, y: 220, wires: [[], [], []] },
];

function sidebarWords(lang: string): Labels {
  const file = path.join(repoRoot, "nodes", "plugins", "locales", lang, "deliveries.json");
  return (JSON.parse(readFileSync(file, "utf8")) as { deliveries: { ui: Labels } }).deliveries.ui;
}

for (const lang of ["de", "ja"]) {
  describe(`editor in ${lang} (browser language)`, function () {
    const editor = useEditor(
      () => startEditorNodeRed({}, 0, { flows: FLOWS }),
      (red) => openEditor(red, { locale: lang }),
    );
    const { label, palette, category } = catalog(lang);
    const english = catalog("en-US").label;

    it("runs the editor itself in that language", async () => {
      const { page } = editor.browser;
      assert.equal(await page.evaluate("RED.i18n.lang()"), lang);
    });

    it("labels the palette entry and its category from that language's catalog", async () => {
      const { page } = editor.browser;
      const entry = page.locator('.red-ui-palette-node[data-palette-type="agent-callback-in"]');
      assert.equal(await entry.getAttribute("data-palette-label"), palette);
      // Node-RED keeps node names untranslated where its own are ("write file" in de and ja); the label still comes from the catalog.
      const fromCatalog = await page.evaluate(`(function () {
        var def = RED.nodes.getType("agent-callback-in");
        return typeof def.paletteLabel === "function" && def.paletteLabel.call(def) === RED._("node-red-contrib-agent-callback/agent-callback-in:agent-callback-in.label.palette");
      })()`);
      assert.equal(fromCatalog, true, "paletteLabel is not read from the catalog");
      // The category's header is translated (the node names in it are names, as Node-RED's own).
      const header = page.locator(".red-ui-palette-category", { has: entry }).locator(".red-ui-palette-header");
      assert.equal((await header.innerText()).trim(), category);
      assert.notEqual(category, catalog("en-US").category);
    });

    it("shows the edit dialog's labels, and the help sidebar, in that language (screenshot)", async () => {
      const { page } = editor.browser;
      await openNode(page, NODE_ID);
      for (const [field, key] of [
        ["url", "url"],
        ["verify", "verify"],
        ["source", "source"],
      ] as const) {
        const shown = (await page.locator(`label[for="node-input-${field}"]`).first().innerText()).trim();
        assert.equal(shown, label[key], `${field} label`);
        assert.notEqual(shown, english[key], `${field} label is English`);
      }
      await page.evaluate(`RED.sidebar.help.show("agent-callback-in")`);
      const help = page.locator(".red-ui-help").filter({ visible: true }).first();
      await help.waitFor();
      const opening = helpOpening(lang);
      await page.locator(".red-ui-help", { hasText: opening }).filter({ visible: true }).first().waitFor();
      assert.ok(!(await help.innerText()).includes(helpOpening("en-US")), "help is English");
      // docs/screenshots/editor-<lang>.png is a copy of this picture.
      forDocs(await screenshot(page, `editor-${lang}`), `editor-${lang}`);
      await page.locator("#node-dialog-cancel").click();
    });

    it("the agent callbacks tab words a request's outcome and another day's date in that language", async () => {
      const { page, red } = { page: editor.browser.page, red: editor.red };
      const body = { agent_loop_id: "loop_lang", execution_id: `exec_lang_${lang}`, status: "completed" };
      const res = await fetch(`${red.url}/lang-open`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      assert.equal(res.status, 200);
      const received = new Date();
      // The browser lives three days later, so the request is not today's and shows its date.
      await page.clock.install({ time: new Date(received.getTime() + 3 * 86_400_000) });
      await page.reload();
      await page.locator('.red-ui-palette-node[data-palette-type="agent-callback-in"]').waitFor();
      await showDeliveriesTab(page);
      const node = page.locator('#agent-callback-deliveries .agent-callback-node[data-id="lang-open"]');
      await node.locator(".agent-callback-toggle").click();
      const request = node.locator(`.agent-callback-request[data-execution-id="exec_lang_${lang}"]`);
      await request.waitFor();
      const text = await request.innerText();
      const words = sidebarWords(lang);
      assert.ok(words["outcome-accepted"] && text.includes(words["outcome-accepted"]), `outcome not in ${lang}: ${text}`);
      const month = new Intl.DateTimeFormat(lang, { month: "short" }).format(received);
      assert.ok(text.includes(month), `no ${lang} month "${month}" in: ${text}`);
    });
  });
}
