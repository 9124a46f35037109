// Where callback out's CPU per delivery goes, piece by piece, in one process: formatting and
// checking the payload, the journal record, the request headers, one attempt (deliverOnce) next to
// a raw undici Pool request to the same in-process server, and the outbox's add + remove for
// several group sizes (its fsync included: process CPU counts the thread pool too).
//   node --require tsx/cjs bench/sender-parts.ts
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { Pool } from "undici";
import { deliverOnce } from "../nodes/lib/send/deliver";
import { createNetworkDispatcher } from "../nodes/lib/send/network";
import { formatCallback } from "../nodes/lib/send/format";
import { Outbox } from "../nodes/lib/outbox/outbox";
import { requestHeaders, type HeaderSettings } from "../nodes/lib/send/request-headers";
import { deliveryMessages as messages } from "../test/support/delivery-messages";
import { callbackOfSize } from "../test/reliability/support/payloads";

function cpuMicros(): number {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
}

/** Runs `fn` n times (`parallel` at once) after a warm-up and prints CPU µs per call. */
async function measure(name: string, n: number, fn: (i: number) => unknown, parallel = 1): Promise<void> {
  for (let i = 0; i < 2000; i++) await fn(i);
  const before = cpuMicros();
  const started = Date.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < n) await fn(next++);
    }),
  );
  const perCall = (cpuMicros() - before) / n;
  console.log(`${name.padEnd(58)} ${perCall.toFixed(1).padStart(7)} µs CPU each, ${(n / ((Date.now() - started) / 1000)).toFixed(0)}/s`);
}

async function main(): Promise<void> {
  const template = callbackOfSize("exec_template", 1024);
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json", "content-length": "17" });
      res.end('{"received":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  const url = `http://127.0.0.1:${port}/agent-results`;

  await measure("formatCallback (build + zod check + stringify)", 20_000, (i) =>
    formatCallback({ payload: { ...template, execution_id: `exec_${i}` } }, { agentLoopId: "", agentLoopName: "" }),
  );
  const formatted = formatCallback({ payload: template }, { agentLoopId: "", agentLoopName: "" });
  if (!formatted.ok) throw new Error(formatted.error);
  const body = formatted.body;
  const entry = { id: "mkq1x2-a1b2c3d4e5f6", executionId: "exec_1", body, attempts: 0, dueAt: 1, createdAt: 1 };
  await measure('journal "add" record (JSON.stringify)', 20_000, () => JSON.stringify({ op: "add", entry }));
  const headerSettings: HeaderSettings = { headers: [], secretHeader: "X-Webhook-Secret", signature: "none", userAgent: "bench/1" };
  await measure("requestHeaders (no secret, no signature)", 20_000, () =>
    requestHeaders(headerSettings, {}, { executionId: "exec_1", body }),
  );

  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 10, pipelining: 1 });
  // The node's own dispatcher, with no proxy and no TLS settings (an empty environment).
  const dispatcher = createNetworkDispatcher(10, {}, {}, (key) => key);
  for (let round = 1; round <= 2; round++) {
    await measure(
      `raw undici pool.request, 10 in flight (+ server), round ${round}`,
      20_000,
      async () => {
        const res = await pool.request({ method: "POST", path: "/agent-results", headers: { "content-type": "application/json" }, body });
        await res.body.text();
      },
      10,
    );
    await measure(
      `deliverOnce, 10 in flight (+ server), round ${round}`,
      20_000,
      () => deliverOnce({ url, headers: { "content-type": "application/json" }, body, timeoutMs: 15_000, dispatcher, messages }),
      10,
    );
  }
  await pool.close();
  await dispatcher.close();
  server.close();

  const dir = mkdtempSync(path.join(tmpdir(), "sender-parts-"));
  try {
    const { outbox } = await Outbox.open(path.join(dir, "journal.jsonl"));
    for (const group of [1, 10, 100]) {
      const n = 20_000;
      let next = 0;
      await measure(`outbox add + remove, groups of ${group} (fsync per group)`, n / group, async () => {
        const ids = Array.from({ length: group }, () => `g${group}-${next++}`);
        await Promise.all(ids.map((id) => outbox.add({ ...entry, id })));
        await Promise.all(ids.map((id) => outbox.remove(id)));
      });
      console.log(`${"".padEnd(58)} (${group > 1 ? "divide by " + group + " per callback" : "per callback"})`);
    }
    await outbox.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
