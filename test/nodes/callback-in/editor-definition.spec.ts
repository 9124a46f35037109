// The editor's definition of callback in (the built callback-in.html), run in a sandbox with a
// stand-in RED: the new properties have the runtime's defaults, and the validators refuse what the
// runtime would replace by its default.
import assert from "node:assert/strict";
import path from "node:path";
import { readSettings } from "../../../nodes/lib/receive/settings";
import { registeredTypes, type EditorProperty } from "../../support/editor-definition";
import { repoRoot } from "../../support/node-red";

function editorDefaults(): Record<string, EditorProperty> {
  const definition = registeredTypes(path.join(repoRoot, "dist", "nodes", "callback-in.html")).get("agent-callback-in");
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
