// What the deliveries sidebar's API tests share: a call that fails the test when a reply holds a
// secret or a signature, polling until a view says what is awaited, and feeding callback out.
import assert from "node:assert/strict";

export interface AdminReply {
  status: number;
  json: Record<string, unknown>;
}

/** `method route` on the admin API as `bearer`; no reply may hold any of `secrets` or a signature. */
export async function callAdmin(
  baseUrl: string,
  bearer: string,
  secrets: readonly string[],
  method: "GET" | "POST",
  route: string,
  body?: unknown,
): Promise<AdminReply> {
  const init: RequestInit = {
    method,
    headers: { Authorization: `Bearer ${bearer}`, "Content-Type": "application/json", Accept: "application/json" },
  };
  if (body !== undefined) init.body = JSON.stringify(body);
  const res = await fetch(`${baseUrl}${route}`, init);
  const text = await res.text();
  for (const secret of secrets) assert.ok(!text.includes(secret), `${route} answered a secret`);
  assert.doesNotMatch(text, /v1=|sha256=|webhook-signature/i, `${route} answered a signature`);
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** `probe()` again every `everyMs` until `ok` says yes (`timeoutMs` at most, then the last value in the error). */
export async function pollUntil<T>(
  probe: () => Promise<T>,
  ok: (value: T) => boolean,
  what: string,
  { timeoutMs = 30_000, everyMs = 100 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** POSTs a result with `executionId` to the flow's /feed (feed-flow.ts), which passes it to callback out. */
export async function feedCallback(baseUrl: string, executionId: string): Promise<void> {
  const res = await fetch(`${baseUrl}/feed`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ execution_id: executionId, status: "completed", result: { output: `output of ${executionId}` } }),
  });
  assert.equal(res.status, 200, await res.text());
}
