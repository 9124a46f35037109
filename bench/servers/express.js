// @ts-check
// Baseline receiver: the seed's hand-written Express handler (express.json()), with the same
// contract as every variant: secret check, required fields, route by status, 200 {"received":true}.
"use strict";
const express = require("express");
const { timingSafeEqual } = require("node:crypto");

const secret = Buffer.from(process.env.BENCH_SECRET || "bench-secret");
const path = process.env.BENCH_PATH || "/agent-results";
/** @type {Record<string, number>} */
const routed = { completed: 0, failed: 0, timeout: 0 };

const app = express();
app.use(express.json({ limit: "1mb" }));
app.get("/__stats", (_req, res) => res.json(routed));
app.post(path, (req, res) => {
  const given = req.headers["x-webhook-secret"];
  const candidate = Buffer.from(typeof given === "string" ? given : "");
  if (candidate.length !== secret.length || !timingSafeEqual(candidate, secret)) {
    return res.status(401).json({ error: "Unauthorized" });
  }
  const { agent_loop_id, execution_id, status } = req.body || {};
  if (typeof agent_loop_id !== "string" || !agent_loop_id) return res.status(400).json({ error: "agent_loop_id: required" });
  if (typeof execution_id !== "string" || !execution_id) return res.status(400).json({ error: "execution_id: required" });
  if (!(status in routed)) return res.status(400).json({ error: "status: expected one of completed, failed, timeout" });
  res.json({ received: true });
  routed[status]++;
});
const server = app.listen(Number(process.env.BENCH_PORT || 0), "127.0.0.1", () => {
  const address = server.address();
  process.stdout.write(`READY ${typeof address === "object" && address ? address.port : 0}\n`);
});
server.keepAliveTimeout = 30_000;
process.on("SIGTERM", () => server.close(() => process.exit(0)));
