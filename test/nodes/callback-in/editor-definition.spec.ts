// The editor's definition of callback in (nodes/callback-in.html), run in a sandbox with a stand-in
// RED: the new properties have the runtime's defaults, and the validators refuse what the runtime
// would replace by its default.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import vm from "node:vm";
import { readSettings } from "../../../nodes/lib/receive/settings";
import { repoRoot } from "../../support/node-red";

interface Property {
  value: unknown;
  validate?: (value: unknown) => boolean;
}

function editorDefaults(): Record<string, Property> {
  // The built file: the build writes the runtime's defaults in front of the definition (scripts/build.js).
  const html = readFileSync(path.join(repoRoot, "dist", "nodes", "callback-in.html"), "utf8");
  const scripts = [...html.matchAll(/<script type="text\/javascript">([\s\S]*?)<\/script>/g)].map((m) => m[1] ?? "");
  let definition: { defaults: Record<string, Property> } | undefined;
  const RED = { nodes: { registerType: (_type: string, def: { defaults: Record<string, Property> }) => (definition = def) }, settings: {} };
  const context = vm.createContext({ RED, window: {}, $: () => undefined, location: {} });
  for (const script of scripts) vm.runInContext(script, context);
  assert.ok(definition, "registerType was called");
  return definition.defaults;
}

describe("callback in's editor definition", () => {
  const defaults = editorDefaults();

  it("rateLimit: 0 or at least 1; between 0 and 1 refused, as the runtime treats it as invalid", () => {
    const validate = defaults.rateLimit?.validate ?? (() => true);
    for (const ok of ["", "0", 0, "1", "600", 1.5]) assert.equal(validate(ok), true, String(ok));
    for (const bad of ["0.5", 0.99, "-1", "lots"]) {
      assert.equal(validate(bad), false, String(bad));
      assert.equal(readSettings({ rateLimit: bad }, "s").problems[0]?.field, "rateLimit", String(bad));
    }
  });

  it("maxPending and trustProxy have the runtime's defaults", () => {
    const runtime = readSettings({}, "s").settings;
    assert.equal(Number(defaults.maxPending?.value) * 1024, runtime.maxPendingBytes);
    assert.equal(defaults.trustProxy?.value, runtime.trustProxy);
    const validate = defaults.maxPending?.validate ?? (() => true);
    assert.equal(validate("64"), true);
    assert.equal(validate("0"), false);
    assert.equal(validate("x"), false);
  });
});
