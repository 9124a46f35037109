import assert from "node:assert/strict";
import { redactUrl } from "../../../nodes/lib/shared/redact-url";

describe("lib/shared/redact-url", () => {
  it("hides user name and password of a URL that parses, and leaves a URL without them as it is", () => {
    assert.equal(redactUrl("rediss://flows:pa55word@redis.example:6380/2"), "rediss://***@redis.example:6380/2");
    assert.equal(redactUrl("redis://:pa55word@127.0.0.1:6379"), "redis://***@127.0.0.1:6379");
    assert.equal(redactUrl("socks5://alice:pw@proxy.example:1080"), "socks5://***@proxy.example:1080");
    assert.equal(redactUrl("http://token-only@proxy.example:3128"), "http://***@proxy.example:3128/");
    assert.equal(redactUrl("redis://127.0.0.1:6379/0"), "redis://127.0.0.1:6379/0");
    assert.equal(redactUrl("http://proxy.example:3128"), "http://proxy.example:3128");
  });

  it("hides a password holding '@' or ':' whole, up to the last '@'", () => {
    assert.equal(redactUrl("redis://user:p@ss@host:6379"), "redis://***@host:6379");
    assert.equal(redactUrl("rediss://flows:pa:55@host"), "rediss://***@host");
  });

  it("hides the user information of text that is not a URL, from after '//' (or the start) to the last '@'", () => {
    assert.equal(redactUrl("redis//:pa55word@host"), "redis//***@host");
    assert.equal(redactUrl("alice:pw@proxy:3128"), "***@proxy:3128");
    assert.equal(redactUrl("socks5://alice:p w@@"), "socks5://***@");
    assert.equal(redactUrl("not a url"), "not a url");
  });
});
