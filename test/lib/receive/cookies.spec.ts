// req.cookies as core http in's cookie-parser gives them: first value wins, escapes decoded, j: JSON.
import assert from "node:assert/strict";
import { parseCookies } from "../../../nodes/lib/receive/cookies";

describe("lib/receive/cookies", () => {
  it("reads name=value pairs as cookie-parser does without a secret", () => {
    assert.deepEqual(
      { ...parseCookies('a=1; b = two%20words ; c="quoted"; a=later; j=j:{"x":[1]}; bad=j:{; e=%zz; noequals') },
      {
        a: "1",
        b: "two words",
        c: "quoted",
        j: { x: [1] },
        bad: "j:{",
        e: "%zz",
      },
    );
  });

  it("is empty without a Cookie header", () => {
    assert.deepEqual({ ...parseCookies(undefined) }, {});
    assert.deepEqual({ ...parseCookies("") }, {});
  });

  it("matches the cookie-parser Node-RED uses", () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the CommonJS package core http in uses, untyped here
    const cookieParser = require("cookie-parser") as () => (
      req: { headers: { cookie: string }; cookies?: unknown },
      res: unknown,
      next: () => void,
    ) => void;
    const header = 'a=1; b = two%20words ; c="quoted"; a=later; j=j:{"x":[1]}; bad=j:{; e=%zz; __proto__=j:{"polluted":1}';
    const req: { headers: { cookie: string }; cookies?: unknown } = { headers: { cookie: header } };
    cookieParser()(req, {}, () => undefined);
    assert.deepEqual({ ...parseCookies(header) }, { ...(req.cookies as object) });
    assert.equal(Object.getPrototypeOf(parseCookies(header)), Object.prototype, "a __proto__ cookie does not set the prototype");
  });
});
