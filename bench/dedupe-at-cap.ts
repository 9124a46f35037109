// Cost of one DedupeMemory.checkAndRemember below and at its cap, in batches of 50,000 distinct ids.
// Usage: node --require tsx/cjs bench/dedupe-at-cap.ts [batches]
import { DedupeMemory } from "../nodes/lib/receive/dedupe";

const memory = new DedupeMemory(86_400_000);
const batches = Number(process.argv[2] || 8);
let next = 0;
for (let b = 0; b < batches; b++) {
  const started = process.hrtime.bigint();
  for (let k = 0; k < 50_000; k++) memory.checkAndRemember(`exec_${next++}`);
  const micros = Number(process.hrtime.bigint() - started) / 1e3 / 50_000;
  console.log(`ids ${next - 50_000}..${next}: ${micros.toFixed(2)} µs per checkAndRemember, ${memory.size} remembered`);
}
