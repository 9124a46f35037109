// The callback store's edit dialog in a real browser: a TLS configuration that does not verify the
// server's certificate is warned about there, as callback out's dialog does for its own.
import assert from "node:assert/strict";
import { nodeRedVersion } from "../support/node-red";
import { screenshot, startEditorNodeRed, useEditor } from "./support";

const tls = (id: string, verifyservercert: boolean): Record<string, unknown> => ({
  id,
  type: "tls-config",
  name: verifyservercert ? "verifies" : "does not verify",
  cert: "",
  key: "",
  ca: "",
  verifyservercert,
});

const flows = [
  { id: "tab", type: "tab", label: "store" },
  { id: "store", type: "agent-callback-store", url: "rediss://127.0.0.1:6390/0", prefix: "agent-callback:", tls: "tls-off" },
  tls("tls-off", false),
  tls("tls-on", true),
];

describe(`editor on Node-RED ${nodeRedVersion()}: the callback store's dialog`, function () {
  const editor = useEditor(() => startEditorNodeRed({}, 0, { flows }));
  const warning = "#agent-callback-store-tls-unverified";

  it("warns while the chosen TLS configuration does not verify the server, and only for rediss://", async () => {
    const { page } = editor.browser;
    await page.evaluate(`RED.editor.editConfig("", "agent-callback-store", "store")`);
    await page.locator("#node-config-input-url").waitFor({ state: "visible" });
    await page.locator(warning).waitFor({ state: "visible" });
    assert.match(await page.locator(warning).innerText(), /does not verify the server certificate/);
    await screenshot(page, "store-tls-unverified", { locator: ".red-ui-tray" });
    await page.locator("#node-config-input-tls").selectOption("tls-on");
    await page.locator(warning).waitFor({ state: "hidden" });
    await page.locator("#node-config-input-tls").selectOption("tls-off");
    await page.locator(warning).waitFor({ state: "visible" });
    const url = page.locator("#node-config-input-url");
    await url.fill("redis://127.0.0.1:6379/0");
    await url.dispatchEvent("change");
    await page.locator(warning).waitFor({ state: "hidden" });
  });
});
