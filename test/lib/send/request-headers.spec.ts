import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";
import { Webhook } from "standardwebhooks";
import {
  bareHeaders,
  checkCredentials,
  configuredHeaders,
  executionIdProblem,
  isHeaderName,
  isHeaderValue,
  requestHeaders,
  substituteEnv,
  type HeaderSettings,
} from "../../../nodes/lib/send/request-headers";

/** Message texts that show the key and substitutions, so a test can see which error was raised. */
const message = (key: string, substitutions?: Record<string, string | number>): string => `${key} ${JSON.stringify(substitutions ?? {})}`;

const noEnv = (name: string): string => assert.fail(`unexpected env lookup of ${name}`);

const base: HeaderSettings = {
  userAgent: "node-red-contrib-agent-callback/9.9.9",
  headers: [],
  secretHeader: "X-Webhook-Secret",
  signature: "none",
};
const request = { executionId: "exec_abc", body: '{"status":"completed"}' };

describe("lib/request-headers", () => {
  it("tells header names from what is not one", () => {
    for (const name of ["X-Custom", "authorization", "x_y", "A1!#$%&'*+.^`|~"]) assert.ok(isHeaderName(name), name);
    for (const name of ["", "X Custom", "X:Y", "Ä", "a\nb", "(x)"]) assert.ok(!isHeaderName(name), name);
  });

  it("fills in every ${NAME} from the lookup and leaves other text alone", () => {
    const env = (name: string): string => ({ TOKEN: "t0k", HOST: "example" })[name] ?? "";
    assert.equal(substituteEnv("Bearer ${TOKEN}", env), "Bearer t0k");
    assert.equal(substituteEnv("${HOST}-${TOKEN}-${HOST}", env), "example-t0k-example");
    assert.equal(substituteEnv("${UNSET}x", env), "x");
    assert.equal(substituteEnv("$TOKEN ${1BAD} ${ TOKEN } {TOKEN}", noEnv), "$TOKEN ${1BAD} ${ TOKEN } {TOKEN}");
  });

  it("reads the configured rows: blank names skipped, names trimmed, values with ${ENV}", () => {
    const looked: string[] = [];
    const env = (name: string): string => {
      looked.push(name);
      return name === "API_TOKEN" ? "secret-value" : "";
    };
    const headers = configuredHeaders(
      [
        { name: " X-One ", value: "1" },
        { name: "", value: "ignored" },
        { value: "no name" },
        null,
        "not a row",
        { name: "Authorization", value: "Bearer ${API_TOKEN}" },
        { name: "X-Num", value: 42 },
        { name: "X-Empty" },
      ],
      env,
      message,
    );
    assert.deepEqual(headers, [
      ["X-One", "1"],
      ["Authorization", "Bearer secret-value"],
      ["X-Num", "42"],
      ["X-Empty", ""],
    ]);
    assert.deepEqual(looked, ["API_TOKEN"]);
    assert.deepEqual(configuredHeaders(undefined, noEnv, message), []);
    assert.deepEqual(configuredHeaders("X-A: b", noEnv, message), []);
  });

  it("refuses a bad header name or a value that would split the request, naming the header", () => {
    assert.throws(() => configuredHeaders([{ name: "X Bad", value: "v" }], noEnv, message), {
      message: 'errors.bad-header-name {"name":"X Bad"}',
    });
    assert.throws(() => configuredHeaders([{ name: "X-Split", value: "a\r\nInjected: yes" }], noEnv, message), {
      message: 'errors.bad-header-value {"name":"X-Split"}',
    });
    // A CR or LF arriving from the environment is caught the same way.
    assert.throws(() => configuredHeaders([{ name: "X-Env", value: "${VAR}" }], () => "a\nb", message), {
      message: 'errors.bad-header-value {"name":"X-Env"}',
    });
  });

  it("sends User-Agent, Content-Type and the configured headers; a configured header replaces a default", () => {
    const headers = requestHeaders(
      {
        ...base,
        headers: [
          ["X-Custom", "v"],
          ["user-agent", "mine/1"],
        ],
      },
      {},
      request,
    );
    assert.deepEqual(headers, { "user-agent": "mine/1", "X-Custom": "v", "Content-Type": "application/json" });
    assert.deepEqual(requestHeaders(base, {}, request), { "User-Agent": base.userAgent, "Content-Type": "application/json" });
  });

  it("always sends Content-Type: application/json, even over a configured one", () => {
    const headers = requestHeaders({ ...base, headers: [["content-type", "text/plain"]] }, {}, request);
    assert.equal(headers["Content-Type"], "application/json");
    assert.equal(headers["content-type"], undefined);
  });

  it("sends the secret in the secret header and the token as a bearer, over configured ones", () => {
    const headers = requestHeaders(
      {
        ...base,
        secretHeader: "X-My-Secret",
        headers: [
          ["authorization", "Basic old"],
          ["X-My-Secret", "old"],
        ],
      },
      { secret: "s3cret", token: "tok-123" },
      request,
    );
    assert.equal(headers["X-My-Secret"], "s3cret");
    assert.equal(headers.Authorization, "Bearer tok-123");
    assert.equal(headers.authorization, undefined);
    assert.equal(Object.keys(headers).length, 4);
    assert.deepEqual(Object.keys(requestHeaders(base, { secret: "", token: "" }, request)), ["User-Agent", "Content-Type"]);
  });

  it("signs the exact body with HMAC-SHA256 in X-Signature", () => {
    const headers = requestHeaders({ ...base, signature: "hmac-sha256" }, { signingKey: "hmac-key" }, request);
    assert.equal(headers["X-Signature"], `sha256=${createHmac("sha256", "hmac-key").update(request.body).digest("hex")}`);
    assert.equal(headers["webhook-signature"], undefined);
  });

  it("signs with Standard Webhooks at the given time, verified by the standardwebhooks package", () => {
    const key = `whsec_${randomBytes(24).toString("base64")}`;
    const now = Date.now();
    const headers = requestHeaders({ ...base, signature: "standard-webhooks" }, { signingKey: key }, { ...request, now });
    assert.equal(headers["webhook-id"], "exec_abc");
    assert.equal(headers["webhook-timestamp"], String(Math.floor(now / 1000)));
    const verified = new Webhook(key).verify(request.body, {
      "webhook-id": headers["webhook-id"] ?? "",
      "webhook-timestamp": headers["webhook-timestamp"] ?? "",
      "webhook-signature": headers["webhook-signature"] ?? "",
    });
    assert.deepEqual(verified, JSON.parse(request.body));
    assert.equal(headers["X-Signature"], undefined);
  });

  it("sends no signature header in mode none, even with a signing key", () => {
    const headers = requestHeaders(base, { signingKey: "unused" }, request);
    assert.deepEqual(Object.keys(headers), ["User-Agent", "Content-Type"]);
  });
  it("tells header values a request can carry from those it cannot (CR, LF, NUL, controls, past Latin-1)", () => {
    for (const value of ["", "plain", "tab\there", "café ÿ", "a b"]) assert.ok(isHeaderValue(value), JSON.stringify(value));
    for (const value of ["a\rb", "a\nb", "a\0b", "a\u0001b", "a\u007fb", "€uro", "日本", "😀"])
      assert.ok(!isHeaderValue(value), JSON.stringify(value));
  });

  it("refuses a configured value that holds such a character after ${ENV} substitution, naming the header", () => {
    const env = (name: string): string => ({ NL: "a\nInjected: 1", EURO: "5€", OK: "fine" })[name] ?? "";
    assert.deepEqual(configuredHeaders([{ name: "X-Ok", value: "${OK}" }], env, message), [["X-Ok", "fine"]]);
    assert.throws(
      () => configuredHeaders([{ name: "X-Env", value: "${NL}" }], env, message),
      /errors\.bad-header-value \{"name":"X-Env"\}/,
    );
    assert.throws(
      () => configuredHeaders([{ name: "X-Euro", value: "${EURO}" }], env, message),
      /errors\.bad-header-value \{"name":"X-Euro"\}/,
    );
    assert.throws(() => configuredHeaders([{ name: "X-Nul", value: "a\0" }], env, message), /errors\.bad-header-value/);
  });

  it("refuses a secret or token a header cannot carry, naming the field", () => {
    checkCredentials({ secret: "s3cret", token: "t0k" }, message);
    assert.throws(() => checkCredentials({ secret: "line\nbreak" }, message), /errors\.bad-credential \{"field":"Secret"\}/);
    assert.throws(() => checkCredentials({ token: "tök€n" }, message), /errors\.bad-credential \{"field":"Bearer token"\}/);
  });

  it("finds an execution_id that cannot be Standard Webhooks' webhook-id header; other modes do not send it", () => {
    assert.equal(executionIdProblem("standard-webhooks", "exec_abc", message), undefined);
    assert.match(executionIdProblem("standard-webhooks", "exec\r\nX: 1", message) ?? "", /^errors\.bad-execution-id/);
    assert.match(executionIdProblem("standard-webhooks", "exec_☃", message) ?? "", /^errors\.bad-execution-id/);
    assert.equal(executionIdProblem("hmac-sha256", "exec_☃", message), undefined);
    assert.equal(executionIdProblem("none", "exec\n", message), undefined);
  });

  it("bare headers carry only User-Agent and Content-Type", () => {
    assert.deepEqual(bareHeaders(base), { "User-Agent": base.userAgent, "Content-Type": "application/json" });
  });
});
