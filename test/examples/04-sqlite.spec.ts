// Example 4 in a real Node-RED: results land in a real SQLite file, and the history endpoint lists them.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import sqlite3 from "sqlite3";
import { completedPayload, describeExample, failedPayload, nodeOfType, timeoutPayload, waitUntil } from "./support";

const FILE = "04 - Save every result to a SQLite database.json";

interface Row {
  agent_loop_id: string;
  agent_loop_name: string | null;
  execution_id: string;
  status: string;
  output: string | null;
  error: string | null;
  completed_at: string | null;
  received_at: string;
}

/** Reads the table with the sqlite3 package, independently of Node-RED. */
function query(file: string, sql: string): Promise<Row[]> {
  return new Promise((resolve, reject) => {
    const db = new sqlite3.Database(file, sqlite3.OPEN_READONLY, (openError) => {
      if (openError) return reject(openError);
      db.all(sql, (err, rows) => {
        db.close();
        if (err) reject(err);
        else resolve(rows as Row[]);
      });
    });
  });
}

const dir = mkdtempSync(path.join(tmpdir(), "agent-results-db-"));
const dbFile = path.join(dir, "agent_results.db");

describeExample(FILE, {
  secret: "sqlite-example-secret",
  env: () => ({ AGENT_RESULTS_DB: dbFile }),
  afterStop: () => rmSync(dir, { recursive: true, force: true }),
}, (example) => {
  before(async () => {
    // The flow creates its table on start.
    await waitUntil(
      async () => existsSync(dbFile) && (await query(dbFile, "SELECT name FROM sqlite_master WHERE name = 'agent_results'").catch(() => [])).length === 1,
      "the agent_results table",
      30_000,
      () => example.red.log,
    );
  });

  it("inserts one row per result, with the fields of the callback", async () => {
    // One after another, each stored before the next is sent: the history test below checks their
    // order, and the sqlite node may run two inserts that arrive together in either order.
    for (const [i, payload] of [completedPayload(), failedPayload(), timeoutPayload()].entries()) {
      const reply = await example.post(payload);
      assert.equal(reply.status, 200);
      await waitUntil(async () => (await query(dbFile, "SELECT id FROM agent_results")).length === i + 1, `row ${i + 1}`, 30_000, () => example.red.log);
    }
    let rows: Row[] = [];
    await waitUntil(async () => (rows = await query(dbFile, "SELECT * FROM agent_results ORDER BY id")).length >= 3, "3 rows", 30_000, () => example.red.log);
    assert.equal(rows.length, 3);
    const byId = new Map(rows.map((r) => [r.execution_id, r]));
    assert.deepEqual(pick(byId.get("exec_completed_1")), {
      agent_loop_id: "loop_abc123",
      agent_loop_name: "Daily Sales Report",
      execution_id: "exec_completed_1",
      status: "completed",
      output: "Sales Report for January 15, 2024 \n\n Total Revenue: $12,450...",
      error: null,
      completed_at: "2024-01-15T10:02:30Z",
    });
    assert.deepEqual(pick(byId.get("exec_failed_1")), {
      agent_loop_id: "loop_abc123",
      agent_loop_name: "Daily Sales Report",
      execution_id: "exec_failed_1",
      status: "failed",
      output: null,
      error: "Tool call failed: HTTP 500 from API",
      completed_at: "2024-01-15T10:02:30Z",
    });
    assert.deepEqual(pick(byId.get("exec_timeout_1")), {
      agent_loop_id: "loop_abc123",
      agent_loop_name: "Daily Sales Report",
      execution_id: "exec_timeout_1",
      status: "timeout",
      output: "Partial result...",
      error: "Execution timeout after 300 seconds",
      completed_at: "2024-01-15T10:02:30Z",
    });
    for (const row of rows) assert.ok(!Number.isNaN(Date.parse(row.received_at)), `received_at ${row.received_at}`);
  });

  it("keeps one row per execution_id even when a callback gets past callback in's memory (e.g. after a restart)", async () => {
    const before = await query(dbFile, "SELECT * FROM agent_results WHERE execution_id = 'exec_completed_1'");
    assert.equal(before.length, 1);
    // A callback in without memory of exec_completed_1 (say, after a restart) passes it on again:
    // the example's own INSERT, run on its table, must leave the stored row alone.
    const insert = nodeOfType(example.nodes, "sqlite", "save result").sql as string;
    const params = {
      $agent_loop_id: "loop_abc123",
      $agent_loop_name: "Daily Sales Report",
      $execution_id: "exec_completed_1",
      $status: "completed",
      $output: "a second copy",
      $error: null,
      $completed_at: "2024-01-15T10:02:30Z",
      $received_at: new Date().toISOString(),
    };
    const rows = await new Promise<number>((resolve, reject) => {
      const db = new sqlite3.Database(dbFile, sqlite3.OPEN_READWRITE, (openError) => {
        if (openError) return reject(openError);
        db.run(insert, params, function (this: { changes: number }, err: Error | null) {
          db.close();
          if (err) reject(err);
          else resolve(this.changes);
        });
      });
    });
    assert.equal(rows, 0);
    const after = await query(dbFile, "SELECT * FROM agent_results WHERE execution_id = 'exec_completed_1'");
    assert.deepEqual(after, before);
  });

  it("lists the last results, newest first, at GET /agent-results/history", async () => {
    const res = await fetch(`${example.red.url}/agent-results/history`);
    assert.equal(res.status, 200);
    const list = (await res.json()) as Row[];
    assert.deepEqual(
      list.map((r) => r.execution_id),
      ["exec_timeout_1", "exec_failed_1", "exec_completed_1"],
    );
    assert.equal(list[0]?.error, "Execution timeout after 300 seconds");
  });

  it("orders the history by when results were received, not by insert order", async () => {
    // A row stored last but received first (two callbacks whose inserts ran out of order).
    const insert = nodeOfType(example.nodes, "sqlite", "save result").sql as string;
    await new Promise<void>((resolve, reject) => {
      const db = new sqlite3.Database(dbFile, sqlite3.OPEN_READWRITE, (openError) => {
        if (openError) return reject(openError);
        const params = { $agent_loop_id: "loop_abc123", $agent_loop_name: null, $execution_id: "exec_received_first", $status: "completed", $output: null, $error: null, $completed_at: null, $received_at: "2000-01-01T00:00:00.000Z" };
        db.run(insert, params, (err: Error | null) => {
          db.close();
          if (err) reject(err);
          else resolve();
        });
      });
    });
    const list = (await (await fetch(`${example.red.url}/agent-results/history`)).json()) as Row[];
    assert.deepEqual(list.map((r) => r.execution_id), ["exec_timeout_1", "exec_failed_1", "exec_completed_1", "exec_received_first"]);
  });

  it("saves a result with minimal fields (nulls where the sender did not know)", async () => {
    const minimal = { agent_loop_id: "loop_min", execution_id: "exec_min_1", status: "failed" };
    const reply = await example.post(minimal);
    assert.equal(reply.status, 200);
    let rows: Row[] = [];
    await waitUntil(async () => (rows = await query(dbFile, "SELECT * FROM agent_results WHERE execution_id = 'exec_min_1'")).length === 1, "the minimal row", 30_000, () => example.red.log);
    assert.deepEqual(pick(rows[0]), {
      agent_loop_id: "loop_min",
      agent_loop_name: null,
      execution_id: "exec_min_1",
      status: "failed",
      output: null,
      error: null,
      completed_at: null,
    });
  });
});

function pick(row: Row | undefined): Omit<Row, "received_at"> | undefined {
  if (!row) return undefined;
  const { agent_loop_id, agent_loop_name, execution_id, status, output, error, completed_at } = row;
  return { agent_loop_id, agent_loop_name, execution_id, status, output, error, completed_at };
}
