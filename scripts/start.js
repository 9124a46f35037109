#!/usr/bin/env node
// `npm start`: runs Node-RED from this project's own node_modules on 127.0.0.1 with a user
// directory inside the project (.node-red/, git-ignored), this plugin linked in, and, on the first
// start, the demo flow (examples/01) deployed with a demo secret so README's curl works at once.
// A plain foreground process: Ctrl-C stops Node-RED and this script.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const { spawn } = require("node:child_process");

const root = path.resolve(__dirname, "..");
const userDir = path.join(root, ".node-red");
const host = "127.0.0.1";
const port = Number(process.env.PORT || 1880);
const nodeRedPackage = process.env.NODE_RED_PACKAGE || "node-red";
const DEMO_SECRET = "demo-secret-change-me";
const DEMO_FLOW = path.join(root, "examples", "01 - Receive agent results and route them by status.json");

fs.mkdirSync(path.join(userDir, "node_modules"), { recursive: true });
const link = path.join(userDir, "node_modules", "node-red-contrib-agent-callback");
if (!fs.existsSync(link)) fs.symlinkSync(root, link, "dir");

const settingsFile = path.join(userDir, "settings.js");
fs.writeFileSync(
  settingsFile,
  `// Written by scripts/start.js on every start; edit that script instead.
module.exports = {
  uiHost: ${JSON.stringify(host)},
  uiPort: ${port},
  flowFile: "flows.json",
  // Encrypts .node-red/flows_cred.json. Fine for a local demo; set your own in production.
  credentialSecret: "agent-callback-local-demo",
  telemetry: { enabled: false },
  logging: { console: { level: "info", metrics: false, audit: false } },
};
`,
);

const firstStart = !fs.existsSync(path.join(userDir, "flows.json"));
const nodeRedDir = path.dirname(require.resolve(`${nodeRedPackage}/package.json`, { paths: [root] }));
const child = spawn(
  process.execPath,
  [path.join(nodeRedDir, "red.js"), "--userDir", userDir, "--settings", settingsFile, "--port", String(port)],
  {
    stdio: "inherit",
  },
);

// Ctrl-C reaches both processes (same terminal); forward other stop signals, and exit with Node-RED.
for (const signal of ["SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
process.on("SIGINT", () => {});
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));

const base = `http://${host}:${port}`;

async function waitForEditor() {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) return false;
    try {
      const res = await fetch(`${base}/flows`);
      if (res.ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

/** Deploys examples/01 on a new tab, with the demo secret as its credential (example files cannot carry one). */
async function deployDemo() {
  const example = JSON.parse(fs.readFileSync(DEMO_FLOW, "utf8"));
  const tabId = example.find((n) => n.z)?.z || "agent-callback-demo";
  const flow = [
    { id: tabId, type: "tab", label: "Demo: receive agent results", disabled: false, info: "" },
    ...example.map((n) => (n.type === "agent-callback-in" ? { ...n, credentials: { secret: DEMO_SECRET } } : n)),
  ];
  const res = await fetch(`${base}/flows`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "Node-RED-Deployment-Type": "full" },
    body: JSON.stringify(flow),
  });
  if (!res.ok) throw new Error(`deploying the demo flow failed: ${res.status} ${await res.text()}`);
}

(async () => {
  if (!(await waitForEditor())) return;
  if (firstStart) {
    await deployDemo();
    console.log("\nDeployed the demo flow (examples/01) with the demo secret.");
  }
  console.log(`
Node-RED with node-red-contrib-agent-callback: ${base}/
Try the demo (${firstStart ? "just deployed" : "deployed on the first start; delete .node-red/ to start over"}):

  curl -i -X POST ${base}/agent-results \\
    -H 'Content-Type: application/json' -H 'X-Webhook-Secret: ${DEMO_SECRET}' \\
    -d '{"agent_loop_id":"loop_abc123","agent_loop_name":"Daily Sales Report","execution_id":"exec_1","status":"completed","result":{"output":"Total Revenue: $12,450"},"error":null}'

Ctrl-C stops Node-RED.
`);
})().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  child.kill("SIGTERM");
});
