// Third-party Node-RED nodes the examples need, installed from the npm registry into a gitignored
// folder of their own (.test-modules/) instead of this package's devDependencies.
//
// Why not devDependencies: node-red-node-email 5.x bundles a semver that its own bundled utf7 does
// not accept, and `npm ci` refuses any package-lock.json that holds it. Installed here, in a
// project of its own, it never enters our lock file. Run as a script (`npm test`'s pretest step)
// or called by the test support before it links the modules into a Node-RED user directory.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";

const repoRoot = path.resolve(__dirname, "..", "..");
export const testModulesDir = path.join(repoRoot, ".test-modules");

/** Exact versions: a test run never picks up a new release by surprise. */
export const testModules: Readonly<Record<string, string>> = { "node-red-node-email": "5.2.5" };

const markerName = "installed.json";

function installedMatches(dir: string): boolean {
  try {
    const marker = JSON.parse(readFileSync(path.join(dir, markerName), "utf8")) as unknown;
    return JSON.stringify(marker) === JSON.stringify(testModules);
  } catch {
    return false;
  }
}

/**
 * Installs the pinned modules unless .test-modules/ already holds exactly them. The install runs in
 * a staging folder renamed into place at the end, so concurrent test runs never see half of it.
 */
export function ensureTestModules(): string {
  if (installedMatches(testModulesDir)) return testModulesDir;
  const stage = `${testModulesDir}.tmp-${process.pid}`;
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  writeFileSync(
    path.join(stage, "package.json"),
    JSON.stringify({ name: "test-modules", private: true, dependencies: testModules }, null, 2),
  );
  execFileSync("npm", ["install", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"], {
    cwd: stage,
    stdio: ["ignore", "ignore", "inherit"],
  });
  writeFileSync(path.join(stage, markerName), JSON.stringify(testModules));
  if (installedMatches(testModulesDir)) {
    // Another run finished first with the same versions.
    rmSync(stage, { recursive: true, force: true });
    return testModulesDir;
  }
  if (existsSync(testModulesDir)) {
    const old = `${testModulesDir}.old-${process.pid}`;
    renameSync(testModulesDir, old);
    rmSync(old, { recursive: true, force: true });
  }
  try {
    renameSync(stage, testModulesDir);
  } catch (err) {
    // Another run renamed its copy into place between the check and here.
    if (!installedMatches(testModulesDir)) throw err;
    rmSync(stage, { recursive: true, force: true });
  }
  return testModulesDir;
}

/**
 * Folder of an installed node package for a test's Node-RED user dir: the pinned test modules
 * from .test-modules/, anything else from this repo's node_modules.
 */
export function modulePath(name: string): string {
  if (name in testModules) return path.join(ensureTestModules(), "node_modules", name);
  return path.join(repoRoot, "node_modules", name);
}

if (require.main === module) ensureTestModules();
