// Where the memory of queued callbacks goes: heap held by the outbox alone for N queued 1 KB
// callbacks, and with the input msgs also kept (as callback out keeps them to give back on its
// outputs). Usage: node --require tsx/cjs bench/outbox-memory.ts [msgs]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Outbox } from "../nodes/lib/outbox/outbox";
import { formatCallback } from "../nodes/lib/send/format";
import { callbackOfSize } from "../test/reliability/support/payloads";
import { heapUsedMiB as heap } from "./lib/heap";
(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "ob-"));
  const { outbox } = await Outbox.open(path.join(dir, "j.jsonl"));
  const h0 = heap();
  const msgs: unknown[] = [];
  const N = 100_000;
  const pending: Promise<void>[] = [];
  for (let i = 0; i < N; i++) {
    const msg = { _msgid: "m" + i, payload: JSON.parse(JSON.stringify(callbackOfSize(`exec_${i}`, 1024, i))) };
    const f = formatCallback(msg, { agentLoopId: "", agentLoopName: "" });
    if (!f.ok) throw new Error(f.error);
    pending.push(outbox.add({ id: `id-${i}`, executionId: `exec_${i}`, body: f.body, attempts: 0, dueAt: 0, createdAt: 0 }));
    if (process.argv[2] === "msgs") msgs.push(msg);
    if (pending.length >= 1000) {
      await Promise.all(pending.splice(0));
    }
  }
  await Promise.all(pending);
  const h1 = heap();
  console.log(
    `outbox entries ${outbox.size}${process.argv[2] === "msgs" ? " + the input msgs" : ""}: heap +${(h1 - h0).toFixed(0)} MiB (${(((h1 - h0) * 1048576) / N).toFixed(0)} bytes per callback)`,
  );
  await outbox.close();
  rmSync(dir, { recursive: true, force: true });
  void msgs.length;
})();
