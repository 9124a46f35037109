// Reads V8 .cpuprofile files (from node --cpu-prof) and says where the time went: self time by
// function and by package, so tuning starts from evidence rather than guesses.
import { readFileSync } from "node:fs";
import path from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  idleMs: number;
  byPackage: Array<{ name: string; ms: number; share: number }>;
  byFunction: Array<{ name: string; where: string; ms: number; share: number }>;
}

/** "plugin" for our dist/nodes, the npm package name for node_modules, "node" for built-ins. */
function owner(url: string): string {
  if (!url) return "(native/V8)";
  if (url.includes("/dist/nodes/")) return "plugin (dist/nodes)";
  const modules = url.lastIndexOf("node_modules/");
  if (modules >= 0) {
    const rest = url.slice(modules + "node_modules/".length).split("/");
    return rest[0]?.startsWith("@") ? `${rest[0]}/${rest[1] ?? ""}` : (rest[0] ?? url);
  }
  if (url.startsWith("node:")) return "node (core)";
  return path.basename(url);
}

/**
 * Self time by function and package. With `lastMs`, only the samples of the profile's last
 * `lastMs` milliseconds count (the measured run, without start-up and module loading).
 */
export function summariseProfile(file: string, top = 15, lastMs = 0): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  // Sample count per node: from the sample list when a window is asked for, else the hit counts.
  const counts = new Map<number, number>();
  let totalMs = (profile.endTime - profile.startTime) / 1000;
  if (lastMs > 0 && profile.samples && profile.timeDeltas) {
    const from = profile.endTime - lastMs * 1000;
    let at = profile.startTime;
    let first = profile.endTime;
    profile.samples.forEach((id, i) => {
      at += profile.timeDeltas?.[i] ?? 0;
      if (at < from) return;
      first = Math.min(first, at);
      counts.set(id, (counts.get(id) ?? 0) + 1);
    });
    totalMs = (profile.endTime - first) / 1000;
  } else {
    for (const node of profile.nodes) if (node.hitCount) counts.set(node.id, node.hitCount);
  }
  let hits = 0;
  for (const count of counts.values()) hits += count;
  const perHit = totalMs / (hits || 1);
  const packages = new Map<string, number>();
  const functions = new Map<string, { name: string; where: string; ms: number }>();
  let idleMs = 0;
  for (const [id, count] of counts) {
    const node = byId.get(id);
    const ms = count * perHit;
    if (!node || !ms) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === "(idle)") {
      idleMs += ms;
      continue;
    }
    const pkg = owner(url);
    packages.set(pkg, (packages.get(pkg) ?? 0) + ms);
    const where = url ? `${pkg === "plugin (dist/nodes)" ? path.basename(url) : pkg}:${lineNumber + 1}` : "";
    const key = `${functionName}@${url}:${lineNumber}`;
    const entry = functions.get(key) ?? { name: functionName || "(anonymous)", where, ms: 0 };
    entry.ms += ms;
    functions.set(key, entry);
  }
  const busy = totalMs - idleMs || 1;
  return {
    file,
    totalMs,
    idleMs,
    byPackage: [...packages.entries()]
      .map(([name, ms]) => ({ name, ms, share: ms / busy }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, top),
    byFunction: [...functions.values()]
      .map((entry) => ({ ...entry, share: entry.ms / busy }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, top),
  };
}

export function printProfileSummary(summary: ProfileSummary): void {
  const pct = (share: number): string => `${(share * 100).toFixed(1)}%`.padStart(6);
  console.log(
    `\n${path.basename(summary.file)}: ${(summary.totalMs / 1000).toFixed(1)} s, busy ${((summary.totalMs - summary.idleMs) / 1000).toFixed(1)} s`,
  );
  console.log("  self time by package (share of busy time):");
  for (const row of summary.byPackage) console.log(`    ${pct(row.share)}  ${row.name}`);
  console.log("  self time by function:");
  for (const row of summary.byFunction) console.log(`    ${pct(row.share)}  ${row.name}  ${row.where}`);
}

// Usage: node --require tsx/cjs bench/lib/profile.ts [--last-ms N] [--top N] <file.cpuprofile>...
if (require.main === module) {
  const args = process.argv.slice(2);
  const option = (name: string): number => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args.splice(i, 2)[1]) : 0;
  };
  const lastMs = option("--last-ms");
  const top = option("--top") || 15;
  for (const file of args) printProfileSummary(summariseProfile(file, top, lastMs));
}
