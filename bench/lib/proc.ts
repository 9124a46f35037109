// Measurements of another process and of disk use, from /proc and the file system (Linux).
import { readFileSync, lstatSync, readdirSync } from "node:fs";
import path from "node:path";

/** Current (VmRSS) and peak (VmHWM) resident set size of `pid`, in MiB. */
export function rssOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const read = (key: string): number => {
    const match = new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status);
    return match ? Number(match[1]) / 1024 : 0;
  };
  return { rss: read("VmRSS"), peak: read("VmHWM") };
}

/** Bytes used by files under `dir` (symlinks are not followed, so a linked node_modules is not counted). */
export function diskUsage(dir: string): number {
  let total = 0;
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const full = path.join(dir, entry);
    const stat = lstatSync(full);
    if (stat.isSymbolicLink()) continue;
    total += stat.isDirectory() ? diskUsage(full) : stat.blocks * 512;
  }
  return total;
}

export function median(values: number[]): number {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] ?? NaN) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

/** Polls `condition` every `everyMs` until it is true; rejects with `what` after timeoutMs. */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
  everyMs = 100,
): Promise<void> {
  const started = Date.now();
  for (;;) {
    if (await condition()) return;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** CPU time (user + system, all threads) `pid` has used so far, in milliseconds (10 ms resolution). */
export function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may hold spaces) start after the last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
}

/**
 * The same in microseconds from the scheduler's nanosecond counters (/proc/<pid>/task/<tid>/schedstat),
 * for runs too short for cpuMsOf's 10 ms ticks; a thread that ends between two reads takes its time
 * with it, so it falls back to cpuMsOf where schedstat is missing.
 */
export function cpuUsOf(pid: number): number {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return cpuMsOf(pid) * 1000;
  }
  let ns = 0;
  for (const tid of tasks) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // The thread ended after the listing.
    }
  }
  return Number.isFinite(ns) && ns > 0 ? ns / 1000 : cpuMsOf(pid) * 1000;
}

/** getconf CLK_TCK: 100 on Linux for every architecture Node.js runs on. */
const CLOCK_TICKS_PER_SECOND = 100;
