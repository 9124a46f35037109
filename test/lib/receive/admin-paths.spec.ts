// The editor's paths that callback in refuses, derived from the installed @node-red/editor-api of
// each Node-RED we support: the test fails when a Node-RED brings a route our list does not cover.
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import express from "express";
import { ADMIN_SEGMENTS, adminClash } from "../../../nodes/lib/receive/admin-paths";
import { repoRoot } from "../../support/node-red";

function jsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? jsFiles(full) : name.endsWith(".js") ? [full] : [];
  });
}

/** First path segments of the routes registered on the admin app and its sub-apps. */
function editorApiSegments(nodeRedPackage: string): Set<string> {
  const nodeRedDir = path.dirname(require.resolve(`${nodeRedPackage}/package.json`, { paths: [repoRoot] }));
  const editorApi = path.dirname(require.resolve("@node-red/editor-api/package.json", { paths: [nodeRedDir] }));
  const segments = new Set<string>();
  const call = /\b(?:adminApp|editorApp|app)\.(?:get|post|put|delete|use)\(\s*(?:"\/([^"/:]*)|'\/([^'/:]*)|\/\^\\\/([A-Za-z-]+))/g;
  for (const file of jsFiles(path.join(editorApi, "lib"))) {
    const source = readFileSync(file, "utf8");
    for (const match of source.matchAll(call)) {
      const segment = match[1] ?? match[2] ?? match[3] ?? "";
      // "/" routes and "/:id" routes of sub-apps (projects) sit under a named mount.
      if (segment !== "" && !file.includes(`${path.sep}projects${path.sep}`)) segments.add(segment);
    }
    if (/path\.join\([^)]*httpAdminRoot[^)]*"comms"\)|["']comms["']/.test(source)) segments.add("comms");
  }
  return segments;
}

describe("lib/receive/admin-paths", () => {
  for (const pkg of ["node-red", "node-red-5"]) {
    it(`covers every route of ${pkg}'s @node-red/editor-api`, () => {
      const found = editorApiSegments(pkg);
      for (const expected of ["flows", "nodes", "auth", "settings", "comms"]) assert.ok(found.has(expected), `scan found ${expected}`);
      const missing = [...found].filter((segment) => !ADMIN_SEGMENTS.includes(segment));
      assert.deepEqual(missing, []);
    });
  }

  it("finds the clash under the admin root, case-insensitively, and nothing outside it", () => {
    assert.equal(adminClash("/flows", "/"), "/flows");
    assert.equal(adminClash("/Auth/Token/", "/"), "/auth");
    assert.equal(adminClash("/nodes/x/y", "/"), "/nodes");
    assert.equal(adminClash("/agent-results", "/"), undefined);
    assert.equal(adminClash("/flowsy", "/"), undefined);
    assert.equal(adminClash("/", "/"), undefined);
    assert.equal(adminClash("/admin/flows", "/admin"), "/admin/flows");
    assert.equal(adminClash("/flows", "/admin"), undefined);
    assert.equal(adminClash("/flows", false), undefined);
  });

  it("counts routes that nodes added to the admin app, matched as Express matches them", () => {
    const admin = express();
    admin.post("/inject/:id", (_req, res) => res.end());
    assert.equal(adminClash("/inject/abc", "/", admin), "/inject/abc");
    assert.equal(adminClash("/inject", "/", admin), undefined);
  });
});
