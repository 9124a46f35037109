import assert from "node:assert/strict";
import { OriginPolicy, normalisedOrigin, readAllowedOrigins } from "../../../nodes/lib/send/origins";

const message = (key: string, substitutions?: Record<string, string | number>): string => `${key} ${JSON.stringify(substitutions ?? {})}`;

describe("lib/origins", () => {
  it("normalises origins: lowercase scheme and host, default ports dropped, path ignored", () => {
    assert.equal(normalisedOrigin("HTTPS://Hooks.Example.COM:443/a?b#c"), "https://hooks.example.com");
    assert.equal(normalisedOrigin("http://hooks.example.com:80"), "http://hooks.example.com");
    assert.equal(normalisedOrigin("http://hooks.example.com:443"), "http://hooks.example.com:443");
    assert.equal(normalisedOrigin("https://[::1]:8443/x"), "https://[::1]:8443");
    assert.equal(normalisedOrigin("ftp://example.com"), undefined);
    assert.equal(normalisedOrigin("not a url"), undefined);
  });

  it("with no allowed origins, refuses every msg.url, naming its origin", () => {
    const policy = readAllowedOrigins([], message);
    assert.deepEqual(policy.check("http://169.254.169.254/latest/meta-data"), { allowed: false, origin: "http://169.254.169.254" });
  });

  it("allows a listed origin with credentials, compared normalised; refuses others", () => {
    const policy = readAllowedOrigins(["https://Hooks.Example.com:443", " http://127.0.0.1:8080/ "], message);
    assert.deepEqual(policy.list, ["https://hooks.example.com", "http://127.0.0.1:8080"]);
    assert.deepEqual(policy.check("https://HOOKS.example.com/agent-results?x=1"), { allowed: true, credentials: true });
    assert.deepEqual(policy.check("http://127.0.0.1:8080/a"), { allowed: true, credentials: true });
    assert.deepEqual(policy.check("http://hooks.example.com/"), { allowed: false, origin: "http://hooks.example.com" });
    assert.deepEqual(policy.check("https://hooks.example.com:8443/"), { allowed: false, origin: "https://hooks.example.com:8443" });
    assert.deepEqual(policy.check("https://evil.example.com/?https://hooks.example.com"), {
      allowed: false,
      origin: "https://evil.example.com",
    });
  });

  it("* allows any origin, without credentials unless the origin is also listed", () => {
    const policy = readAllowedOrigins("https://hooks.example.com\n*\n", message);
    assert.deepEqual(policy.check("https://hooks.example.com/x"), { allowed: true, credentials: true });
    assert.deepEqual(policy.check("https://other.example.com/x"), { allowed: true, credentials: false });
    assert.deepEqual(new OriginPolicy(["*"]).list, ["*"]);
  });

  it("refuses an entry that is not an origin, naming it", () => {
    for (const bad of [
      "hooks.example.com",
      "https://hooks.example.com/path",
      "ftp://x.example",
      "https://u:p@x.example",
      "https://x.example/?q",
    ]) {
      assert.throws(
        () => readAllowedOrigins([bad], message),
        (err: Error) => err.message.startsWith("errors.bad-origin") && err.message.includes(JSON.stringify(bad).slice(1, -1)),
        bad,
      );
    }
  });
});
