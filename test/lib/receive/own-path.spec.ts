// Request paths on callback in's own server: a plain path is taken as it is, anything else goes
// through the URL parser, and the answer is the same either way; Paths match as Express routes them.
import assert from "node:assert/strict";
import { pathMatcher, pathParams, targetPathname } from "../../../nodes/lib/receive/own-path";

const viaUrl = (target: string): string => new URL(target, "http://x").pathname;

describe("lib/receive/own-path", () => {
  it("gives the URL parser's pathname for plain and other request targets", () => {
    const targets = [
      "/",
      "/agent-results",
      "/Agent_Results/",
      "/a/b~c/d-e",
      "/hooks/x?y=1",
      "/a/../b",
      "/a/./b",
      "/a%2Fb",
      "/caf%C3%A9",
      "/café",
      "/a b",
      "/a//b",
      "//evil.example/x",
      "/a\\b",
      "/a#frag",
      "/a;b",
    ];
    for (const target of targets) assert.equal(targetPathname(target), viaUrl(target), target);
    assert.equal(targetPathname(undefined), "/");
  });

  it("matches a Path case-insensitively, with one trailing slash and repeated slashes ignored", () => {
    const literal = pathMatcher("/Agent-Results");
    for (const yes of ["/agent-results", "/AGENT-RESULTS/", "//agent-results", "/agent-results//"]) assert.ok(literal(yes), yes);
    for (const no of ["", "/", "/agent-results/x", "/agent-result", "/x/agent-results"]) assert.ok(!literal(no), no);
    const root = pathMatcher("/");
    assert.ok(root("/"));
    assert.ok(!root(""), "a target the URL parser refused matches nothing");
    assert.ok(!root("/a"));
  });

  it("matches a :name segment to any one non-empty segment", () => {
    const named = pathMatcher("/hooks/:name");
    for (const yes of ["/hooks/a", "/HOOKS/b/", "/hooks//c"]) assert.ok(named(yes), yes);
    for (const no of ["/hooks", "/hooks/", "/hooks/a/b", "/other/a"]) assert.ok(!named(no), no);
  });

  it("gives the :name segments decoded, as Express's req.params", () => {
    assert.deepEqual(pathParams("/hooks/:name/:id", "/HOOKS/a%20b/42/"), { name: "a b", id: "42" });
    assert.deepEqual(pathParams("/hooks/:name", "/hooks/%E0%A4%A"), { name: "%E0%A4%A" });
    assert.deepEqual(pathParams("/hooks", "/hooks"), {});
  });
});
