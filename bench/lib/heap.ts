// This process's own heap, measured after full garbage collections (for in-process memory checks).
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

let gc: (() => void) | undefined;

/** Heap used after two full GCs, in MiB; exposes gc() on first use (no --expose-gc flag needed). */
export function heapUsedMiB(): number {
  if (!gc) {
    setFlagsFromString("--expose-gc");
    gc = runInNewContext("gc") as () => void;
  }
  gc();
  gc();
  return process.memoryUsage().heapUsed / 1048576;
}
