// fetchJson against a real HTTP server on 127.0.0.1: tries again on 5xx / 429 / no answer, stops at
// other answers and at the deadline, bounds the body, and never names the request's headers.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fetchJson } from "../../../../nodes/lib/receive/sources/fetch-json";
import { lookup, type Translate } from "../../../../nodes/lib/shared/messages";
import { repoRoot } from "../../../support/node-red";

/** callback in's messages in `lang`, as the node hands them down (keys relative to its type). */
function messagesIn(lang: string): Translate {
  const catalog: unknown = JSON.parse(readFileSync(path.join(repoRoot, "nodes", "locales", lang, "callback-in.json"), "utf8"));
  return (key, substitutions) => lookup(catalog, `agent-callback-in.${key}`, substitutions) ?? key;
}

describe("fetchJson", function () {
  this.timeout(20_000);
  let server: Server;
  let base = "";
  let answers: Array<{ status: number; body: string }> = [];
  let seen = 0;

  beforeEach(async () => {
    seen = 0;
    answers = [];
    server = createServer((_req, res) => {
      const answer = answers[Math.min(seen++, answers.length - 1)] ?? { status: 200, body: "{}" };
      res.writeHead(answer.status, { "content-type": "application/json" });
      res.end(answer.body);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("tries again after 503 and 429, then gives the JSON", async () => {
    answers = [
      { status: 503, body: "{}" },
      { status: 429, body: "{}" },
      { status: 200, body: '{"id":"resp_1"}' },
    ];
    assert.deepEqual(await fetchJson(`${base}/r`, {}), { ok: true, value: { id: "resp_1" } });
    assert.equal(seen, 3);
  });

  it("401 is final: one try, the error names the URL and the status, not the headers", async () => {
    answers = [{ status: 401, body: '{"error":"bad key"}' }];
    const got = await fetchJson(`${base}/r`, { authorization: "Bearer sk-secret-key" });
    assert.deepEqual(got, { ok: false, error: `GET ${base}/r: HTTP 401 (1 try)` });
    assert.equal(seen, 1);
  });

  it("keeps trying a failing server until the deadline, then says how often it tried", async () => {
    answers = [{ status: 500, body: "{}" }];
    const got = await fetchJson(`${base}/r`, {}, { deadlineMs: 2_000 });
    assert.equal(got.ok, false);
    assert.match(got.ok ? "" : got.error, /HTTP 500 \(3 tries\)$/);
    assert.equal(seen, 3);
  });

  it("a body over the bound is refused, not read whole", async () => {
    answers = [{ status: 200, body: JSON.stringify({ text: "x".repeat(10_000) }) }];
    const got = await fetchJson(`${base}/r`, {}, { maxBytes: 1024 });
    assert.deepEqual(got, { ok: false, error: `GET ${base}/r: the answer is larger than 1 KiB (1 try)` });
  });

  it("an answer that is not JSON is final", async () => {
    answers = [{ status: 200, body: "<html>gateway</html>" }];
    assert.deepEqual(await fetchJson(`${base}/r`, {}), { ok: false, error: `GET ${base}/r: the answer is not JSON (1 try)` });
  });

  it("words its errors in the node's language when given its messages", async () => {
    answers = [{ status: 200, body: "<html>gateway</html>" }];
    assert.deepEqual(await fetchJson(`${base}/r`, {}, { t: messagesIn("de") }), {
      ok: false,
      error: `GET ${base}/r: die Antwort ist kein JSON (1 Versuch)`,
    });
    answers = [{ status: 200, body: JSON.stringify({ text: "x".repeat(10_000) }) }];
    assert.deepEqual(await fetchJson(`${base}/r`, {}, { maxBytes: 1024, t: messagesIn("ja") }), {
      ok: false,
      error: `GET ${base}/r: 応答が 1 KiB を超えています (1 回試行)`,
    });
  });
});
