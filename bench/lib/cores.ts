// Which cores the sender section runs on: with two or more, the sink gets the last core the bench
// may use to itself (taskset), and the bench with every sender it starts the others, so that a
// sender never shares a core with its receiver and the sink is never what limits a run.
// BENCH_PIN=0 turns this off.
import { spawnSync } from "node:child_process";

/** "0-2,5" (taskset's list syntax) as [0, 1, 2, 5]. */
function parseList(list: string): number[] {
  const cores: number[] = [];
  for (const part of list.split(",")) {
    const [from = NaN, to = from] = part.split("-").map(Number);
    for (let core = from; core <= to; core++) cores.push(core);
  }
  return cores.filter(Number.isInteger);
}

/** The cores `pid` may run on, or undefined without a working taskset. */
function affinityOf(pid: number): number[] | undefined {
  const out = spawnSync("taskset", ["-c", "-p", String(pid)], { encoding: "utf8" });
  if (out.status !== 0) return undefined;
  const list = /:\s*([\d,-]+)\s*$/.exec(out.stdout)?.[1];
  return list ? parseList(list) : undefined;
}

/** Sets the cores of `pid` and all its threads (threads started later inherit them). */
function pin(pid: number, cores: number[]): void {
  const out = spawnSync("taskset", ["-a", "-c", "-p", cores.join(","), String(pid)], { encoding: "utf8" });
  if (out.status !== 0) throw new Error(`taskset could not pin process ${pid} to cores ${cores.join(",")}: ${out.stderr.trim()}`);
}

export interface SenderPlacement {
  /** The sink's own core, for `taskset -c`; undefined when not pinned. */
  sink: string | undefined;
  /** Restores this process's cores as they were before. */
  release(): void;
}

/**
 * Pins this process, so every sender and Redis it starts from now on, away from the sink's core
 * unless pinning is off, taskset is missing or there is only one core.
 */
export function placeSenders(): SenderPlacement {
  const cores = process.env.BENCH_PIN === "0" ? undefined : affinityOf(process.pid);
  const pinned = cores && cores.length >= 2 ? cores : undefined;
  if (pinned) pin(process.pid, pinned.slice(0, -1));
  return {
    sink: pinned ? String(pinned[pinned.length - 1]) : undefined,
    release: () => {
      if (pinned) pin(process.pid, pinned);
    },
  };
}
