// The editor in a real browser: the plugin installed from `npm pack` into a fresh Node-RED user
// directory (as the palette manager would), Debian's chromium driven by playwright-core.
import { execFileSync } from "node:child_process";
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { NodeRedProcess, nodeRedVersion, repoRoot, type NodeRedProcessOptions } from "../support/node-red";
import { examplesDir, loadExample } from "../examples/support";
import { deployAs } from "../support/admin-auth";

export const screenshotsDir = path.join(repoRoot, "test-output", "screenshots");
/** Screenshot names carry the Node-RED major version, so the 4.1 and 5.0 runs keep theirs. */
export const versionTag = `node-red-${nodeRedVersion().split(".")[0]}`;

let template: Promise<string> | undefined;

/**
 * A user directory with the packed plugin installed by npm (made once per mocha run, then copied).
 * `npm pack --ignore-scripts`: the test script has just built dist/, and prepack's clean build
 * would delete dist/ under other test runs sharing this working tree.
 */
function installedTemplate(): Promise<string> {
  template ??= Promise.resolve().then(() => {
    const dir = mkdtempSync(path.join(tmpdir(), "nr-editor-template-"));
    const packDir = path.join(dir, "pack");
    mkdirSync(packDir);
    execFileSync("npm", ["pack", "--ignore-scripts", "--silent", "--pack-destination", packDir], {
      cwd: repoRoot,
      stdio: ["ignore", "ignore", "inherit"],
    });
    const tgz = readdirSync(packDir).find((f) => f.endsWith(".tgz"));
    if (!tgz) throw new Error("npm pack produced no .tgz");
    const userDir = path.join(dir, "user");
    mkdirSync(userDir);
    writeFileSync(path.join(userDir, "package.json"), JSON.stringify({ name: "node-red-user", private: true }));
    execFileSync("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", path.join(packDir, tgz)], {
      cwd: userDir,
      stdio: ["ignore", "ignore", "inherit"],
    });
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
    return userDir;
  });
  return template;
}

/**
 * A real Node-RED with the packed plugin and the third-party nodes the examples use
 * (node-red-node-email from .test-modules/ and node-red-node-sqlite from this repo's dev dependencies).
 */
export async function startEditorNodeRed(
  env: Record<string, string> = {},
  port = 0,
  extra: Pick<NodeRedProcessOptions, "flows" | "settings"> = {},
): Promise<NodeRedProcess> {
  const source = await installedTemplate();
  const userDir = mkdtempSync(path.join(tmpdir(), "nr-editor-user-"));
  cpSync(source, userDir, { recursive: true, verbatimSymlinks: true });
  const red = new NodeRedProcess({ userDir, plugin: "none", modules: ["node-red-node-email", "node-red-node-sqlite"], env, ...extra });
  red.port = port;
  await red.start();
  return red;
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/**
 * Debian's chromium (never a downloaded one) with a fresh profile, on the editor of `red`; with
 * `accessToken` (adminAuth), signed in as that token's user; with `locale` (e.g. "de"), in that language.
 */
export async function openEditor(red: NodeRedProcess, options: { accessToken?: string; locale?: string } = {}): Promise<Browser> {
  const profile = mkdtempSync(path.join(tmpdir(), "chromium-profile-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      ...(options.locale ? [`--lang=${options.locale}`] : []),
    ],
    // The browser's language (navigator.language and Accept-Language), which the editor follows.
    ...(options.locale ? { locale: options.locale } : {}),
    viewport: { width: 1760, height: 960 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(30_000);
  if (options.accessToken) {
    // Where the editor keeps its token ("auth-tokens" + the path's suffix, empty at "/"): signed in from the first load.
    await context.addInitScript(
      `localStorage.setItem("auth-tokens", ${JSON.stringify(JSON.stringify({ access_token: options.accessToken, token_type: "Bearer" }))})`,
    );
  }
  await page.goto(red.url);
  await page.locator("#red-ui-workspace-chart").waitFor();
  await page.locator('.red-ui-palette-node[data-palette-type="agent-callback-in"]').waitFor();
  return {
    context,
    page,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Node-RED and the browser on its editor, for one suite's tests (set by useEditor's before hook). */
export class EditorSession {
  red!: NodeRedProcess;
  browser!: Browser;
}

/**
 * Registers the suite's before/after hooks: start Node-RED (`start`, by default startEditorNodeRed())
 * and open the editor in chromium before the tests; close both after them.
 */
export function useEditor(
  start: () => Promise<NodeRedProcess> = () => startEditorNodeRed(),
  open: (red: NodeRedProcess) => Promise<Browser> = (red) => openEditor(red),
): EditorSession {
  const session = new EditorSession();
  before(async () => {
    session.red = await start();
    session.browser = await open(session.red);
  });
  after(async () => {
    await session.browser?.close();
    await session.red?.stop();
    session.red?.cleanup();
  });
  return session;
}

/**
 * Deploys `flows` through the admin API (as the editor does: a flows file would not carry the
 * credentials), then reloads the editor once they run and its palette shows `paletteType`.
 */
export async function deployAndReload(session: EditorSession, flows: unknown[], paletteType: string): Promise<void> {
  const { page } = session.browser;
  await deployAs(session.red.url, "", flows);
  await session.red.waitFor(/Started flows[\s\S]*Started flows/);
  await page.reload();
  await page.locator(`.red-ui-palette-node[data-palette-type="${paletteType}"]`).waitFor();
}

/**
 * Copies a screenshot to docs/screenshots/ for the README (one per name, from the Node-RED 4 run),
 * only when asked (UPDATE_SCREENSHOTS=1): a test run leaves the tracked files as they are.
 */
export function forDocs(file: string, name: string): void {
  if (versionTag !== "node-red-4" || process.env.UPDATE_SCREENSHOTS !== "1") return;
  const dir = path.join(repoRoot, "docs", "screenshots");
  mkdirSync(dir, { recursive: true });
  copyFileSync(file, path.join(dir, `${name}.png`));
}

export async function screenshot(page: Page, name: string, target?: { locator: string }): Promise<string> {
  mkdirSync(screenshotsDir, { recursive: true });
  const file = path.join(screenshotsDir, `${name}-${versionTag}.png`);
  if (target) await page.locator(target.locator).first().screenshot({ path: file });
  else await page.screenshot({ path: file });
  return file;
}

/** Drags a palette node onto the workspace at (x, y) of the chart and returns the new node's id. */
export async function dragFromPalette(page: Page, type: string, x: number, y: number): Promise<string> {
  const before: string[] = await page.evaluate(`RED.nodes.filterNodes({ type: ${JSON.stringify(type)} }).map(n => n.id)`);
  const source = page.locator(`.red-ui-palette-node[data-palette-type="${type}"]`);
  await source.scrollIntoViewIfNeeded();
  await source.hover();
  await source.dragTo(page.locator("#red-ui-workspace-chart"), { targetPosition: { x, y } });
  const after: string[] = await page.evaluate(`RED.nodes.filterNodes({ type: ${JSON.stringify(type)} }).map(n => n.id)`);
  const added = after.filter((id) => !before.includes(id));
  if (added.length !== 1) throw new Error(`dragging ${type} added ${added.length} nodes`);
  return added[0] as string;
}

/** Opens a node's edit dialog by double-clicking it on the canvas. */
/**
 * Shows the agent callbacks tab once the plugin has added it: after a page load the palette can be
 * ready before the plugin, and a tab shown before it exists stays hidden.
 */
export async function showDeliveriesTab(page: Page): Promise<void> {
  await page.waitForFunction(`RED.sidebar.containsTab("agent-callback-deliveries")`);
  await page.evaluate(`RED.sidebar.show("agent-callback-deliveries")`);
  await page.locator("#agent-callback-deliveries").waitFor({ state: "visible" });
}

export async function openNode(page: Page, id: string): Promise<void> {
  await page.locator(`g.red-ui-flow-node-group[id="${id}"] rect.red-ui-flow-node`).dblclick();
  await page.locator("#node-dialog-ok").waitFor({ state: "visible" });
}

/** Clicks Deploy and waits for the "Successfully deployed" notification. */
export async function deploy(page: Page): Promise<void> {
  await page.locator("#red-ui-header-button-deploy").click();
  await page.locator(".red-ui-notification", { hasText: "Successfully deployed" }).first().waitFor();
  await page.locator("#red-ui-header-button-deploy.disabled").waitFor();
}

const MODULE = "node-red-contrib-agent-callback";

/** The example files as shipped, in menu order. */
export function exampleFiles(): string[] {
  return readdirSync(examplesDir)
    .filter((f) => f.endsWith(".json"))
    .sort();
}

export interface EditorNode {
  id: string;
  type: string;
  valid: boolean;
  validationErrors: string[];
}

/** Opens Import > Examples and returns the labels listed under this package. */
export async function openExamples(page: Page): Promise<string[]> {
  await page.locator("#red-ui-header-button-sidemenu").click();
  await page.locator("#menu-item-import").click();
  await page.locator('#red-ui-clipboard-dialog-import-tabs a[href$="-examples"]').click();
  const panel = page.locator("#red-ui-clipboard-dialog-import-tab-examples");
  const first = panel.locator(".red-ui-treeList-label", { hasText: exampleFiles()[0]?.replace(/\.json$/, "") ?? "" });
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
export async function importExample(page: Page, file: string): Promise<EditorNode[]> {
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
