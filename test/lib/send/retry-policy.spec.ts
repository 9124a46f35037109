import assert from "node:assert/strict";
import { DEFAULT_RETRY_SCHEDULE, classify, nextDelayMs, parseRetryAfter, parseSchedule } from "../../../nodes/lib/send/retry-policy";

const response = (statusCode: number) => ({ kind: "response" as const, statusCode });

describe("lib/retry-policy", () => {
  it("delivers on 2xx and retries network errors, timeouts, 408, 425, 429 and 5xx", () => {
    for (const code of [200, 201, 204, 299]) assert.equal(classify(response(code), false), "delivered");
    for (const code of [408, 425, 429, 500, 502, 503, 504, 599]) assert.equal(classify(response(code), false), "retry", String(code));
    assert.equal(classify({ kind: "network", error: "ECONNREFUSED" }, false), "retry");
    assert.equal(classify({ kind: "timeout", error: "timeout" }, false), "retry");
    assert.equal(classify({ kind: "refused", error: "bad header" }, true), "give-up");
  });

  it("never retries 410 or 3xx, and other 4xx only with retry4xx", () => {
    assert.equal(classify(response(410), true), "give-up");
    for (const code of [301, 302, 307, 308]) assert.equal(classify(response(code), true), "give-up");
    for (const code of [400, 401, 403, 404, 422]) {
      assert.equal(classify(response(code), true), "retry");
      assert.equal(classify(response(code), false), "give-up");
    }
  });

  it("reads Retry-After as seconds or as an HTTP date", () => {
    const now = Date.parse("2024-01-15T10:00:00Z");
    assert.equal(parseRetryAfter("120", now), 120);
    assert.equal(parseRetryAfter(" 0 ", now), 0);
    assert.equal(parseRetryAfter("Mon, 15 Jan 2024 10:01:30 GMT", now), 90);
    assert.equal(parseRetryAfter("Mon, 15 Jan 2024 09:00:00 GMT", now), 0);
    assert.equal(parseRetryAfter("soon", now), undefined);
    assert.equal(parseRetryAfter(undefined, now), undefined);
    assert.equal(parseRetryAfter("999999999", now), 24 * 60 * 60);
  });

  it("jitters each scheduled delay by at most 20% and takes the larger of it and Retry-After", () => {
    const schedule = [10, 100];
    assert.equal(
      nextDelayMs(schedule, 1, undefined, () => 0),
      8000,
    );
    assert.equal(
      nextDelayMs(schedule, 1, undefined, () => 1),
      12000,
    );
    assert.equal(
      nextDelayMs(schedule, 1, undefined, () => 0.5),
      10000,
    );
    assert.equal(
      nextDelayMs(schedule, 2, undefined, () => 0.5),
      100000,
    );
    assert.equal(
      nextDelayMs(schedule, 1, 60, () => 0.5),
      60000,
    );
    assert.equal(
      nextDelayMs(schedule, 2, 60, () => 0.5),
      100000,
    );
    assert.equal(
      nextDelayMs(schedule, 3, undefined, () => 0.5),
      undefined,
      "exhausted after the last delay",
    );
    for (let i = 0; i < 200; i += 1) {
      const delay = nextDelayMs(schedule, 1) ?? -1;
      assert.ok(delay >= 8000 && delay <= 12000, String(delay));
    }
  });

  it("has the Svix default: 8 tries", () => {
    assert.deepEqual([...DEFAULT_RETRY_SCHEDULE], [5, 300, 1800, 7200, 18000, 36000, 36000]);
  });

  it("parses schedules from JSON arrays and comma lists, naming a bad delay", () => {
    assert.deepEqual(parseSchedule([0.05, 0.1]), { ok: true, schedule: [0.05, 0.1] });
    assert.deepEqual(parseSchedule(" 5, 300 ,1800"), { ok: true, schedule: [5, 300, 1800] });
    assert.deepEqual(parseSchedule(""), { ok: true, schedule: [] });
    assert.deepEqual(parseSchedule(undefined), { ok: true, schedule: [...DEFAULT_RETRY_SCHEDULE] });
    const bad = parseSchedule("5, soon, 10");
    assert.equal(bad.ok, false);
    // The node translates the key (errors.bad-schedule: "retrySchedule: delay 2 (soon) is not ...").
    if (!bad.ok) assert.deepEqual([bad.key, bad.substitutions], ["errors.bad-schedule", { delay: 2, value: "soon" }]);
    assert.equal(parseSchedule([5, -1]).ok, false);
    assert.equal(parseSchedule({}).ok, false);
  });
});
