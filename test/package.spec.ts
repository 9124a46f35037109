// What people install: `npm pack` (with its clean prepack build) -> `npm install <tgz>` into a
// fresh Node-RED user dir -> Node-RED starts and registers the nodes, their icons, help, messages
// and examples. Packed from a copy of the sources so that the clean build does not touch the
// working tree's dist/ while other tests use it.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { NodeRedProcess, nodeRedVersion, repoRoot } from "./support/node-red";

const npm = process.platform === "win32" ? "npm.cmd" : "npm";

describe(`npm pack -> install into a fresh user dir -> Node-RED ${nodeRedVersion()} loads the package`, function () {
  this.timeout(300_000);
  const work = mkdtempSync(path.join(tmpdir(), "agent-callback-pack-"));
  const src = path.join(work, "src");
  const userDir = path.join(work, "user");
  let tarball = "";
  let files: string[] = [];
  let red: NodeRedProcess | undefined;

  before(async () => {
    for (const entry of [
      "package.json",
      "package-lock.json",
      "tsconfig.json",
      "LICENSE",
      "README.md",
      "scripts",
      "nodes",
      "icons",
      "examples",
    ]) {
      if (existsSync(path.join(repoRoot, entry))) cpSync(path.join(repoRoot, entry), path.join(src, entry), { recursive: true });
    }
    symlinkSync(path.join(repoRoot, "node_modules"), path.join(src, "node_modules"), "dir");
    const packed = JSON.parse(
      execFileSync(npm, ["pack", "--json", "--pack-destination", work], { cwd: src, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }),
    ) as Array<{
      filename: string;
      files: Array<{ path: string }>;
    }>;
    tarball = path.join(work, packed[0]!.filename);
    files = packed[0]!.files.map((f) => f.path);

    mkdirSync(userDir, { recursive: true });
    writeFileSync(path.join(userDir, "package.json"), JSON.stringify({ name: "node-red-project", private: true }));
    execFileSync(npm, ["install", "--no-audit", "--no-fund", "--prefer-offline", "--omit=dev", tarball], { cwd: userDir, stdio: "pipe" });
    red = new NodeRedProcess({ userDir, plugin: "none" });
    await red.start();
  });

  after(async () => {
    await red?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it("ships exactly what Node-RED needs: built JS beside each .html, locales, icons, examples; no sources or tests", () => {
    for (const needed of [
      "package.json",
      "LICENSE",
      "README.md",
      "dist/nodes/callback-in.js",
      "dist/nodes/callback-in.html",
      "dist/nodes/callback-out.js",
      "dist/nodes/callback-out.html",
      "dist/nodes/icons/callback-out.svg",
      "dist/nodes/locales/en-US/callback-in.json",
      "dist/nodes/locales/en-US/callback-in.html",
      "dist/nodes/icons/callback-in.svg",
      "dist/nodes/lib/receive/verify.js",
      "dist/nodes/plugins/deliveries.js",
      "dist/nodes/plugins/deliveries.html",
      "dist/nodes/plugins/locales/en-US/deliveries.json",
      "examples/01 - Receive agent results and route them by status.json",
    ]) {
      assert.ok(files.includes(needed), `${needed} missing from the package`);
    }
    assert.deepEqual(
      files.filter((f) => /^(test|bench|nodes|scripts)\//.test(f) || f.endsWith(".ts")),
      [],
    );
  });

  it("registers callback in and callback out with no load error", async () => {
    const res = await fetch(`${red!.url}/nodes`, { headers: { Accept: "application/json" } });
    const sets = (await res.json()) as Array<{ module: string; types: string[]; enabled: boolean; err?: string }>;
    const ours = sets.filter((s) => s.module === "node-red-contrib-agent-callback");
    const types = ours.flatMap((s) => s.types);
    assert.ok(types.includes("agent-callback-in"), JSON.stringify(ours));
    assert.ok(types.includes("agent-callback-out"), JSON.stringify(ours));
    for (const set of ours) {
      assert.equal(set.err, undefined, `${set.types.join(",")}: ${set.err}`);
      assert.equal(set.enabled, true);
    }
    assert.doesNotMatch(red!.log, /\[node-red-contrib-agent-callback\/[^\]]*\]/, "no load warnings for our node sets");
  });

  it("serves the icons, the editor HTML with help, and the messages", async () => {
    const icons = (await (await fetch(`${red!.url}/icons`)).json()) as Record<string, string[]>;
    assert.ok(icons["node-red-contrib-agent-callback"]?.includes("callback-in.svg"), JSON.stringify(icons));
    assert.ok(icons["node-red-contrib-agent-callback"]?.includes("callback-out.svg"), JSON.stringify(icons));
    const svg = await fetch(`${red!.url}/icons/node-red-contrib-agent-callback/callback-in.svg`);
    assert.equal(svg.status, 200);

    const html = await (await fetch(`${red!.url}/nodes`, { headers: { Accept: "text/html" } })).text();
    assert.match(html, /RED\.nodes\.registerType\("agent-callback-in"/);
    assert.match(html, /registerType\(\s*["']agent-callback-out["']/);
    assert.match(html, /data-help-name="agent-callback-in"/);
    assert.match(html, /<h3>Inputs<\/h3>[\s\S]*<h3>Outputs<\/h3>[\s\S]*<h3>Details<\/h3>/);

    // The editor loads each node set's messages from its namespace "<module>/<set>".
    const messages = (await (
      await fetch(`${red!.url}/locales/node-red-contrib-agent-callback/agent-callback-in?lng=en-US`)
    ).json()) as Record<string, { label?: { url?: string } }>;
    assert.equal(messages["agent-callback-in"]?.label?.url, "Path", JSON.stringify(messages).slice(0, 300));
  });

  it("loads the deliveries sidebar plugin with its editor part and messages", async () => {
    const plugins = (await (await fetch(`${red!.url}/plugins`, { headers: { Accept: "application/json" } })).json()) as Array<{
      module: string;
      plugins: Array<{ id: string }>;
      err?: string;
    }>;
    const ours = plugins.find((set) => set.module === "node-red-contrib-agent-callback");
    assert.ok(ours, JSON.stringify(plugins));
    assert.equal(ours.err, undefined);
    assert.deepEqual(
      ours.plugins.map((p) => p.id),
      ["agent-callback-deliveries"],
    );
    const html = await (await fetch(`${red!.url}/plugins`, { headers: { Accept: "text/html" } })).text();
    assert.match(html, /RED\.sidebar\.addTab/);
    const messages = (await (await fetch(`${red!.url}/plugins/messages?lng=en-US`)).json()) as Record<
      string,
      { deliveries?: { label?: string } }
    >;
    assert.equal(
      messages["node-red-contrib-agent-callback/agent-callback-deliveries"]?.deliveries?.label,
      "agent callbacks",
      JSON.stringify(messages).slice(0, 300),
    );
  });

  it("lists the examples for Import > Examples", () => {
    const examples = readdirSync(path.join(userDir, "node_modules", "node-red-contrib-agent-callback", "examples"));
    assert.ok(examples.includes("01 - Receive agent results and route them by status.json"));
    assert.ok(examples.includes("10 - OpenAI background responses to Slack.json"));
    assert.ok(examples.includes("11 - Anthropic agent sessions to Discord.json"));
  });
});
