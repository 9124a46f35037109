// @ts-check
// Baseline sender: a raw undici Pool with keep-alive and a fixed number of requests in flight
// (closed loop), posting the same payload as every variant. Nothing is retried or stored: it is
// the limit a durable sender is compared against.
"use strict";
const { Pool } = require("undici");

const target = new URL(process.env.BENCH_URL || "http://127.0.0.1:1/");
const total = Number(process.env.BENCH_COUNT || 5000);
const inFlight = Number(process.env.BENCH_IN_FLIGHT || 10);
/** @type {Record<string, unknown> & { execution_id: string }} */
const template = JSON.parse(process.env.BENCH_PAYLOAD || "{}");
const pool = new Pool(target.origin, { connections: inFlight, pipelining: 1, keepAliveTimeout: 30_000 });

let next = 0;
let end = 0;
let delivered = 0;
let failed = 0;

async function worker() {
  while (next < end) {
    const index = next++;
    const body = JSON.stringify({ ...template, execution_id: `exec_${index}` });
    try {
      const res = await pool.request({
        method: "POST",
        path: target.pathname,
        headers: { "content-type": "application/json" },
        body,
      });
      await res.body.text();
      if (res.statusCode >= 200 && res.statusCode < 300) delivered++;
      else failed++;
    } catch {
      failed++;
    }
  }
}

// Each "go <first> <count>" line on stdin sends execution_ids exec_<first>.. (a warm-up, then the
// measured run), so that process start-up is outside the measurement. Plain "go" sends BENCH_COUNT.
let lines = "";
let running = Promise.resolve();
process.stdin.on("data", (chunk) => {
  lines += chunk.toString();
  let nl;
  while ((nl = lines.indexOf("\n")) >= 0) {
    const [, first = "0", count = String(total)] = lines.slice(0, nl).trim().split(/\s+/);
    lines = lines.slice(nl + 1);
    running = running.then(async () => {
      next = Number(first);
      end = next + Number(count);
      await Promise.all(Array.from({ length: inFlight }, worker));
      process.stdout.write(`DONE ${JSON.stringify({ delivered, failed })}\n`);
    });
  }
});
process.stdin.on("end", () => void running.then(() => pool.close()).then(() => process.exit(0)));
process.stdout.write("READY\n");
