// The README's "Try it in 5 minutes", step by step in a real browser on the packed plugin: import
// example 01, see it refuse callbacks until a secret is typed, type one, deploy, send the README's
// own callback body and find it in the Debug sidebar. Fails when the README and the plugin drift apart.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { nodeRedVersion, repoRoot } from "../support/node-red";
import { deploy, exampleFiles, importExample, openNode, useEditor } from "./support";

/** The walk-through's curl in README.md: its path, secret header name and body, as a user copies them. */
function readmeCurl(): { path: string; header: string; body: string } {
  const readme = readFileSync(path.join(repoRoot, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Try it in 5 minutes"));
  const curl = /curl -i -X POST http:\/\/127\.0\.0\.1:1880(\/\S+) \\\s+-H '[^']+' -H '([^:]+): <your secret>' \\\s+-d '([^']+)'/.exec(
    section,
  );
  if (!curl) throw new Error("README.md: no curl with a <your secret> header in 'Try it in 5 minutes'");
  return { path: curl[1] ?? "", header: curl[2] ?? "", body: curl[3] ?? "" };
}

describe(`editor on Node-RED ${nodeRedVersion()}: the README's 5-minute walk-through`, function () {
  const editor = useEditor();
  const curl = readmeCurl();
  const secret = "walk-through-secret-0123456789";
  let inId = "";

  const post = async (body: string, secretValue: string): Promise<{ status: number; text: string }> => {
    const res = await fetch(editor.red.url + curl.path, {
      method: "POST",
      headers: { "Content-Type": "application/json", [curl.header]: secretValue },
      body,
    });
    return { status: res.status, text: await res.text() };
  };

  it("step 1: example 01 imports, and deployed as imported it shows 'no secret set' and refuses with 401", async () => {
    const { page } = editor.browser;
    const file = exampleFiles().find((f) => f.startsWith("01 - ")) as string;
    const nodes = await importExample(page, file);
    inId = nodes.find((n) => n.type === "agent-callback-in")?.id ?? "";
    assert.equal(nodes.filter((n) => n.type === "debug").length, 3);
    await deploy(page);
    await page.locator(`g.red-ui-flow-node-group[id="${inId}"]`, { hasText: "no secret set" }).waitFor();
    assert.equal((await post(curl.body, secret)).status, 401);
  });

  it("steps 2-4: with a secret typed and deployed, the README's callback is accepted, shown on 'completed', and a repeat is a duplicate", async () => {
    const { page } = editor.browser;
    await openNode(page, inId);
    await page.locator("#node-input-secret").fill(secret);
    await page.locator("#node-dialog-ok").click();
    await deploy(page);
    // The node restarts with its secret: its status changes from "no secret set" to the endpoint.
    await page.locator(`g.red-ui-flow-node-group[id="${inId}"]`, { hasText: `listening on ${curl.path}` }).waitFor();
    await page.evaluate(`RED.actions.invoke("core:show-debug-tab")`);

    assert.deepEqual(await post(curl.body, secret), { status: 200, text: '{"received":true}' });
    const completed = page.locator(".red-ui-debug-msg", { hasText: "node: completed" });
    await completed.filter({ hasText: "Daily Sales Report" }).first().waitFor();

    assert.deepEqual(await post(curl.body, secret), { status: 200, text: '{"received":true,"duplicate":true}' });
    // As the README suggests: status "failed" and a new execution_id reach the failed output.
    const failedBody = curl.body.replace('"status":"completed"', '"status":"failed"').replace('"exec_1"', '"exec_2"');
    assert.notEqual(failedBody, curl.body);
    assert.deepEqual(await post(failedBody, secret), { status: 200, text: '{"received":true}' });
    await page.locator(".red-ui-debug-msg", { hasText: "node: failed" }).first().waitFor();
    // The failed callback was sent after the duplicate, so a duplicate emitted would be listed by now.
    assert.equal(await completed.count(), 1);
  });
});
