import assert from "node:assert/strict";
import {
  isHttpUrl,
  readSettings,
  type CallbackOutConfig,
  type CallbackOutSettings,
  type SettingsContext,
} from "../../../nodes/lib/send/settings";
import { DEFAULT_RETRY_SCHEDULE } from "../../../nodes/lib/send/retry-policy";
import { OriginPolicy } from "../../../nodes/lib/send/origins";

/** Message texts that show the key and substitutions, so a test can see which error was raised. */
const message = (key: string, substitutions?: Record<string, string | number>): string => `${key} ${JSON.stringify(substitutions ?? {})}`;

function context(overrides: Partial<SettingsContext> = {}): SettingsContext {
  return { hasSigningKey: false, env: (name) => assert.fail(`unexpected env lookup of ${name}`), message, ...overrides };
}

const read = (config: CallbackOutConfig, overrides?: Partial<SettingsContext>) => readSettings(config, context(overrides));

describe("lib/callback-out-settings", () => {
  it("gives the documented defaults for an empty node", () => {
    assert.deepEqual(read({}), {
      url: "",
      headers: [],
      secretHeader: "X-Webhook-Secret",
      signature: "none",
      agentLoopId: "",
      agentLoopName: "",
      timeoutMs: 15_000,
      schedule: [...DEFAULT_RETRY_SCHEDULE],
      retry4xx: true,
      concurrency: 8,
      maxQueue: 10000,
      receiverRule: { pauseAfter: 10, pauseForMs: 30000, maxRate: 0 },
      problems: [],
      origins: new OriginPolicy([]),
      network: {},
      warnings: [],
    });
  });

  it("reads the editor's strings as the editor means them", () => {
    const settings = read({
      url: "  https://receiver.example/agent-results  ",
      secretHeader: " X-My-Secret ",
      agentLoopId: "loop_1",
      agentLoopName: "Daily",
      timeout: "2.5",
      retrySchedule: "0.5, 10, 60",
      retry4xx: "false",
      concurrency: "3",
      maxQueue: "50",
    });
    assert.equal(settings.url, "https://receiver.example/agent-results");
    assert.equal(settings.secretHeader, "X-My-Secret");
    assert.equal(settings.agentLoopId, "loop_1");
    assert.equal(settings.agentLoopName, "Daily");
    assert.equal(settings.timeoutMs, 2500);
    assert.deepEqual(settings.schedule, [0.5, 10, 60]);
    assert.equal(settings.retry4xx, false);
    assert.equal(settings.concurrency, 3);
    assert.equal(settings.maxQueue, 50);
  });

  it("reads flow JSON values as they are: numbers, arrays, booleans; blanks as defaults", () => {
    const settings = read({ timeout: 0.2, retrySchedule: [1, 2], retry4xx: true, concurrency: 1, maxQueue: "", secretHeader: "  " });
    assert.equal(settings.timeoutMs, 200);
    assert.deepEqual(settings.schedule, [1, 2]);
    assert.equal(settings.retry4xx, true);
    assert.equal(settings.concurrency, 1);
    assert.equal(settings.maxQueue, 10000);
    assert.equal(settings.secretHeader, "X-Webhook-Secret");
    assert.equal(read({ retry4xx: "true" }).retry4xx, true);
    assert.equal(read({ retry4xx: false }).retry4xx, false);
    assert.equal(read({ retry4xx: "no" }).retry4xx, false);
    assert.deepEqual(read({ retrySchedule: "" }).schedule, []);
  });

  it("accepts only http and https URLs", () => {
    for (const url of ["http://127.0.0.1:1880/x", "https://example.com/a?b=c"]) assert.ok(isHttpUrl(url), url);
    for (const url of ["ftp://example.com", "file:///etc/passwd", "example.com/x", "", "http//x"]) assert.ok(!isHttpUrl(url), url);
    assert.throws(() => read({ url: "ftp://example.com/x" }), { message: 'errors.bad-url {"url":"ftp://example.com/x"}' });
  });

  it("fills ${ENV} in header values through the lookup it is given", () => {
    const settings = read({ headers: [{ name: "Authorization", value: "Bearer ${API_TOKEN}" }] }, { env: (name) => `<${name}>` });
    assert.deepEqual(settings.headers, [["Authorization", "Bearer <API_TOKEN>"]]);
  });

  it("names the field of each bad value", () => {
    const cases: Array<[CallbackOutConfig, string]> = [
      [{ headers: [{ name: "Bad Name", value: "v" }] }, 'errors.bad-header-name {"name":"Bad Name"}'],
      [{ secretHeader: "X:Secret" }, 'errors.bad-header-name {"name":"X:Secret"}'],
      [{ signature: "md5" }, 'errors.bad-signature {"signature":"md5"}'],
    ];
    for (const [config, error] of cases) assert.throws(() => read(config), { message: error }, JSON.stringify(config));
    assert.throws(() => read({ retrySchedule: "5, soon" }), /^Error: errors\.bad-schedule \{"delay":2,"value":"soon"\}/);
  });

  it("replaces each bad number by its default and names the field in a problem (the one policy)", () => {
    const cases: Array<[CallbackOutConfig, keyof CallbackOutSettings, number, { field: string; value: string; fallback: number }]> = [
      [{ timeout: "0" }, "timeoutMs", 15_000, { field: "timeout", value: "0", fallback: 15 }],
      [{ timeout: "soon" }, "timeoutMs", 15_000, { field: "timeout", value: "soon", fallback: 15 }],
      [{ concurrency: "1.5" }, "concurrency", 8, { field: "concurrency", value: "1.5", fallback: 8 }],
      [{ concurrency: 0 }, "concurrency", 8, { field: "concurrency", value: "0", fallback: 8 }],
      [{ maxQueue: "-1" }, "maxQueue", 10000, { field: "maxQueue", value: "-1", fallback: 10000 }],
    ];
    for (const [config, key, value, problem] of cases) {
      const settings = read(config);
      assert.equal(settings[key], value, JSON.stringify(config));
      assert.deepEqual(settings.problems, [problem], JSON.stringify(config));
    }
    assert.deepEqual(
      read({ timeout: -1, concurrency: "x", maxQueue: 5 }).problems.map((p) => p.field),
      ["timeout", "concurrency"],
    );
  });

  it("needs a signing key for a signature mode, and not without one", () => {
    for (const signature of ["hmac-sha256", "standard-webhooks"] as const) {
      assert.throws(() => read({ signature }), { message: `errors.missing-signing-key {"signature":"${signature}"}` });
      assert.equal(read({ signature }, { hasSigningKey: true }).signature, signature);
    }
    assert.equal(read({ signature: "none" }).signature, "none");
  });
});
