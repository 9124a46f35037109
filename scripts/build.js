#!/usr/bin/env node
// Builds what Node-RED loads: compiled JS in dist/nodes, with each node's (and editor plugin's)
// .html, its locales and its icons beside it (the loader only looks for icons in an icons/ folder next to the node's .js).
//
// The build is staged in a fresh folder and swapped in with two renames, so that no stale file is
// ever shipped and a Node-RED or test that is reading dist/nodes never sees a half-written file.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const { execFileSync } = require("node:child_process");

const root = path.resolve(__dirname, "..");
const dist = path.join(root, "dist");
const out = path.join(dist, "nodes");
const stage = path.join(dist, `.nodes-${process.pid}`);
const old = path.join(dist, `.old-${process.pid}`);

fs.mkdirSync(dist, { recursive: true });
fs.rmSync(stage, { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", path.join(root, "tsconfig.json"), "--outDir", stage], {
  stdio: "inherit",
});

const src = path.join(root, "nodes");
for (const entry of fs.readdirSync(src)) {
  if (entry.endsWith(".html")) fs.copyFileSync(path.join(src, entry), path.join(stage, entry));
}
fs.cpSync(path.join(src, "locales"), path.join(stage, "locales"), { recursive: true });
// Editor plugins: the loader takes the .html beside each plugin's .js, and its catalog from locales/ there.
const plugins = path.join(src, "plugins");
for (const entry of fs.readdirSync(plugins)) {
  if (entry.endsWith(".html")) fs.copyFileSync(path.join(plugins, entry), path.join(stage, "plugins", entry));
}
fs.cpSync(path.join(plugins, "locales"), path.join(stage, "plugins", "locales"), { recursive: true });
fs.cpSync(path.join(root, "icons"), path.join(stage, "icons"), {
  recursive: true,
  filter: (file) => !path.basename(file).startsWith("."),
});

if (fs.existsSync(out)) fs.renameSync(out, old);
fs.renameSync(stage, out);
fs.rmSync(old, { recursive: true, force: true });
