#!/usr/bin/env node
// Builds what Node-RED loads: compiled JS in dist/nodes, with each node's .html, its locales and
// its icons beside it (the loader only looks for icons in an icons/ folder next to the node's .js).
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const { execFileSync } = require("node:child_process");

const root = path.resolve(__dirname, "..");
const out = path.join(root, "dist", "nodes");

// --clean (used by prepack) starts from nothing so that no stale file is shipped; the default
// build overwrites in place so a test that is already running keeps its files.
if (process.argv.includes("--clean")) fs.rmSync(path.join(root, "dist"), { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", path.join(root, "tsconfig.json")], {
  stdio: "inherit",
});

const src = path.join(root, "nodes");
for (const entry of fs.readdirSync(src)) {
  if (entry.endsWith(".html")) fs.copyFileSync(path.join(src, entry), path.join(out, entry));
}
fs.cpSync(path.join(src, "locales"), path.join(out, "locales"), { recursive: true });
fs.cpSync(path.join(root, "icons"), path.join(out, "icons"), { recursive: true });
