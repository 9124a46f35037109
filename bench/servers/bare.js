// @ts-check
// Baseline receiver: bare node:http, the same contract as every variant (secret check, required
// fields, route by status, 200 {"received":true}). Nothing in Node.js is faster; it is the limit.
"use strict";
const http = require("node:http");
const { timingSafeEqual } = require("node:crypto");

const secret = Buffer.from(process.env.BENCH_SECRET || "bench-secret");
const path = process.env.BENCH_PATH || "/agent-results";
const maxBody = 1024 * 1024;
/** @type {Record<string, number>} */
const routed = { completed: 0, failed: 0, timeout: 0 };

/** @param {http.ServerResponse} res @param {number} status @param {string} body */
function reply(res, status, body) {
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}

const server = http.createServer((req, res) => {
  if (req.method === "GET" && req.url === "/__stats") return reply(res, 200, JSON.stringify(routed));
  if (req.method !== "POST" || req.url !== path) return reply(res, 404, '{"error":"Not found"}');
  const given = req.headers["x-webhook-secret"];
  const candidate = Buffer.from(typeof given === "string" ? given : "");
  if (candidate.length !== secret.length || !timingSafeEqual(candidate, secret)) {
    req.resume();
    return reply(res, 401, '{"error":"Unauthorized"}');
  }
  /** @type {Buffer[]} */
  const chunks = [];
  let size = 0;
  req.on("data", (chunk) => {
    size += chunk.length;
    if (size <= maxBody) chunks.push(chunk);
  });
  req.on("end", () => {
    if (size > maxBody) return reply(res, 413, '{"error":"body too large"}');
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      return reply(res, 400, '{"error":"body is not JSON"}');
    }
    if (!body || typeof body !== "object") return reply(res, 400, '{"error":"expected a JSON object"}');
    if (typeof body.agent_loop_id !== "string" || !body.agent_loop_id) return reply(res, 400, '{"error":"agent_loop_id: required"}');
    if (typeof body.execution_id !== "string" || !body.execution_id) return reply(res, 400, '{"error":"execution_id: required"}');
    if (!(body.status in routed)) return reply(res, 400, '{"error":"status: expected one of completed, failed, timeout"}');
    reply(res, 200, '{"received":true}');
    routed[body.status]++;
  });
});
server.keepAliveTimeout = 30_000;
server.listen(Number(process.env.BENCH_PORT || 0), "127.0.0.1", () => {
  const address = server.address();
  process.stdout.write(`READY ${typeof address === "object" && address ? address.port : 0}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
