// What reading bodies back from the journal costs once the outbox holds more than it keeps in
// memory: CPU µs, file reads and bytes read per body, in file order, one at a time and 10 at once
// (callback out's default concurrency), as its delivery loop asks for them.
//   node --require tsx/cjs bench/outbox-readback.ts
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Outbox } from "../nodes/lib/outbox/outbox";
import { nodeJournalFs, type JournalFs } from "../nodes/lib/outbox/journal-fs";
import { callbackOfSize } from "../test/reliability/support/payloads";

const counted = { reads: 0, bytes: 0 };

/** The node file system, counting the reads made through its handles. */
const countingFs: JournalFs = {
  ...nodeJournalFs,
  open: async (file, flags, mode) => {
    const handle = await nodeJournalFs.open(file, flags, mode);
    return {
      write: (buffer, offset, length) => handle.write(buffer, offset, length),
      read: (buffer, offset, length, position) => {
        counted.reads++;
        counted.bytes += length;
        return handle.read(buffer, offset, length, position);
      },
      sync: () => handle.sync(),
      truncate: (length) => handle.truncate(length),
      close: () => handle.close(),
    };
  },
};

function cpuMicros(): number {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
}

async function main(): Promise<void> {
  const count = 10_000;
  const body = JSON.stringify(callbackOfSize("exec_template", 1024));
  const dir = mkdtempSync(path.join(tmpdir(), "outbox-readback-"));
  try {
    // No body kept in memory: every body() is a read-back, as for callbacks past the 8 MiB budget.
    const { outbox } = await Outbox.open(path.join(dir, "journal.jsonl"), { bodyMemoryBytes: 0, files: countingFs });
    const ids = Array.from({ length: count }, (_, i) => `e${i}`);
    await Promise.all(ids.map((id, i) => outbox.add({ id, executionId: `exec_${i}`, body, attempts: 0, dueAt: 1, createdAt: 1 })));
    for (const inFlight of [1, 10, 1, 10]) {
      counted.reads = 0;
      counted.bytes = 0;
      let next = 0;
      const before = cpuMicros();
      await Promise.all(
        Array.from({ length: inFlight }, async () => {
          while (next < count) await outbox.body(ids[next++] as string);
        }),
      );
      const perBody = (cpuMicros() - before) / count;
      console.log(
        `${String(inFlight).padStart(2)} in flight: ${perBody.toFixed(1).padStart(6)} µs CPU a body, ` +
          `${(counted.reads / count).toFixed(3)} reads and ${(counted.bytes / count / 1024).toFixed(1)} KiB read a body`,
      );
    }
    await outbox.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
