// Import > Examples in a real browser: every example of the package is listed, imports without
// unknown or invalid nodes, and the round trip works once deployed from the editor.
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import type { Page } from "playwright-core";
import { freePort, nodeRedVersion } from "../support/node-red";
import { examplesDir, loadExample, nodeOfType } from "../examples/support";
import { deploy, screenshot, startEditorNodeRed, useEditor } from "./support";

const MODULE = "node-red-contrib-agent-callback";
const files = readdirSync(examplesDir)
  .filter((f) => f.endsWith(".json"))
  .sort();

interface EditorNode {
  id: string;
  type: string;
  valid: boolean;
  validationErrors: string[];
}

/** Opens Import > Examples and returns the labels listed under this package. */
async function openExamples(page: Page): Promise<string[]> {
  await page.locator("#red-ui-header-button-sidemenu").click();
  await page.locator("#menu-item-import").click();
  await page.locator('#red-ui-clipboard-dialog-import-tabs a[href$="-examples"]').click();
  const panel = page.locator("#red-ui-clipboard-dialog-import-tab-examples");
  const first = panel.locator(".red-ui-treeList-label", { hasText: files[0]?.replace(/\.json$/, "") ?? "" });
  if (!(await first.isVisible())) await panel.locator(".red-ui-treeList-label", { hasText: MODULE }).click();
  await first.waitFor();
  const labels = await panel.locator(".red-ui-treeList-label").allInnerTexts();
  const start = labels.findIndex((l) => l.trim() === MODULE);
  return labels
    .slice(start + 1)
    .map((l) => l.trim())
    .filter((l) => /^\d\d - /.test(l));
}

/** Imports one example onto a new flow tab (Import to: new flow) and returns the nodes of that tab as the editor holds them. */
async function importExample(page: Page, file: string): Promise<EditorNode[]> {
  await openExamples(page);
  await page
    .locator("#red-ui-clipboard-dialog-import-tab-examples .red-ui-treeList-label", { hasText: file.replace(/\.json$/, "") })
    .click();
  // "Import to: new flow" keeps each example on its own tab, where its nodes keep their positions.
  await page.locator("#red-ui-clipboard-dialog-import-opt-new").click();
  await page.locator("#red-ui-clipboard-dialog-ok").click();
  await page.locator("#red-ui-clipboard-dialog-ok").waitFor({ state: "hidden" });
  // The imported nodes follow the mouse, anchored on the first node, until a click drops them:
  // drop that node where the file puts it, so the flow keeps its layout. Then clear the selection.
  const first = loadExample(file)[0];
  await page.locator("#red-ui-workspace-chart").click({ position: { x: Number(first?.x ?? 200), y: Number(first?.y ?? 100) } });
  await page.locator("#red-ui-workspace-chart").click({ position: { x: 700, y: 700 } });
  // On a loaded machine the editor may switch to the new tab a moment after the drop.
  const expected = loadExample(file).filter((n) => n.z).length;
  await page.waitForFunction(`RED.nodes.filterNodes({ z: RED.workspaces.active() }).length >= ${expected}`);
  return page.evaluate(`RED.nodes.filterNodes({ z: RED.workspaces.active() }).map(n => ({
    id: n.id, type: n.type, valid: n.valid !== false, validationErrors: n.validationErrors || [] }))`);
}

/** Waits until every notification has gone, so a screenshot shows the flow alone. */
async function quietScreenshot(page: Page, name: string): Promise<void> {
  await page.mouse.move(500, 650);
  await page.locator(".red-ui-notification").last().waitFor({ state: "hidden" });
  await screenshot(page, name);
}

describe(`editor on Node-RED ${nodeRedVersion()}: Import > Examples`, function () {
  const editor = useEditor(async () => {
    const port = await freePort();
    // Example 8 calls this Node-RED at NODE_RED_BASE_URL (default http://127.0.0.1:1880).
    return startEditorNodeRed({ NODE_RED_BASE_URL: `http://127.0.0.1:${port}` }, port);
  });

  it("lists every example of the package", async () => {
    const { page } = editor.browser;
    const listed = await openExamples(page);
    assert.deepEqual(
      listed,
      files.map((f) => f.replace(/\.json$/, "")),
    );
    assert.equal(listed.length, 8);
    await screenshot(page, "import-examples", { locator: ".ui-dialog:has(#red-ui-clipboard-dialog-import-tabs)" });
    await page.locator("#red-ui-clipboard-dialog-cancel").click();
    await page.locator("#red-ui-clipboard-dialog-ok").waitFor({ state: "hidden" });
  });

  it("imports the round trip, deploys it from the editor, and its inject button delivers a result to callback in", async () => {
    const { page } = editor.browser;
    const file = files.find((f) => f.startsWith("08 - ")) as string;
    const nodes = await importExample(page, file);
    assert.deepEqual(
      nodes.filter((n) => !n.valid),
      [],
    );
    await deploy(page);
    const inject = nodeOfType(loadExample(file), "inject");
    const injectId = nodes.find((n) => n.id === inject.id)?.id ?? nodes.find((n) => n.type === "inject")?.id;
    await page.evaluate(`RED.actions.invoke("core:show-debug-tab")`);
    await page.locator(`g.red-ui-flow-node-group[id="${injectId}"] .red-ui-flow-node-button`).click();
    const arrived = page.locator(".red-ui-debug-msg", { hasText: "completed" }).filter({ hasText: "loop_round_trip" });
    await arrived.first().waitFor();
    const delivered = page.locator(".red-ui-debug-msg", { hasText: "delivered" }).filter({ hasText: "statusCode" });
    await delivered.first().waitFor();
    await quietScreenshot(page, "example-round-trip");
    // Remove it again (and deploy that), so importing it below is a fresh import, not a conflict.
    await page.locator("#red-ui-workspace-chart").click({ position: { x: 700, y: 500 } });
    await page.keyboard.press("Control+a");
    await page.keyboard.press("Delete");
    await deploy(page);
    assert.equal(await page.evaluate(`RED.nodes.filterNodes({ type: "agent-callback-out" }).length`), 0);
  });

  for (const file of files) {
    it(`imports "${file}" without unknown or invalid nodes`, async () => {
      const { page } = editor.browser;
      const expected = loadExample(file).filter((n) => n.z);
      const nodes = await importExample(page, file);
      assert.deepEqual(nodes.map((n) => n.type).sort(), expected.map((n) => n.type).sort());
      assert.deepEqual(await page.evaluate(`RED.nodes.filterNodes({ type: "unknown" }).length`), 0);
      assert.equal(await page.locator(".red-ui-notification", { hasText: /unrecogni[sz]ed|unknown/i }).count(), 0);
      assert.deepEqual(
        nodes.filter((n) => !n.valid).map((n) => `${n.type}: ${n.validationErrors.join(", ")}`),
        [],
      );
      await quietScreenshot(page, `example-${file.slice(0, 2)}`);
    });
  }
});
