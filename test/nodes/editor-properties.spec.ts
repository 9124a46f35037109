// The editor and the runtime agree on every node property: each built .html's registerType
// definition (run in node:vm) is compared with the runtime's nodes/lib/*/defaults.ts, property by
// property: the same properties, the same defaults, and validators that accept and refuse the
// same values. Properties added to either side later are compared too.
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { acceptsValue, type PropertyRule, type PropertySpec } from "../../nodes/lib/shared/property-rules";
import { registeredTypes, type EditorProperty } from "../support/editor-definition";
import { repoRoot } from "../support/node-red";

const built = path.join(repoRoot, "dist", "nodes");
const libDir = path.join(repoRoot, "nodes", "lib");

/** Every runtime defaults module (nodes/lib/<side>/defaults.ts), by node type. */
function runtimeProperties(): Map<string, Record<string, PropertySpec>> {
  const byType = new Map<string, Record<string, PropertySpec>>();
  for (const side of readdirSync(libDir)) {
    const file = path.join(libDir, side, "defaults.ts");
    if (!existsSync(file)) continue;
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- modules found at run time, typed by the cast
    const module = require(file) as { NODE_TYPE: string; PROPERTIES: Record<string, PropertySpec> };
    byType.set(module.NODE_TYPE, module.PROPERTIES);
  }
  return byType;
}

/** Values any property may meet in a flow: blanks, numbers as numbers and as text, lists, odd types. */
const COMMON_VALUES: unknown[] = [
  undefined,
  null,
  "",
  " ",
  "abc",
  "a b",
  "/",
  "/path",
  "path",
  "/a b",
  "0",
  "5",
  "-1",
  "1.5",
  " 7 ",
  "1e3",
  "x5",
  0,
  1,
  5,
  -1,
  0.5,
  1.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  true,
  false,
  "true",
  "false",
  [],
  [1, 2],
  [0],
  [-1],
  ["5", "10"],
  ["5", "x"],
  [""],
  {},
  "X-Webhook-Secret",
  "X-Signature",
  "bad header",
  "Bad:Header",
  "http://example.com/x",
  "https://example.com",
  "ftp://example.com",
  "example.com",
  "5, 300, 1800",
  "5,,300",
  "5, -1",
  [{ name: "X-A", value: "1" }],
  [{ name: "X-A", value: "${ENV}" }],
  [{ name: "bad name", value: "" }],
  [{ name: "X-A", value: "a\nb" }],
  [{ name: "", value: "x" }],
  [{ name: " X-A ", value: "1" }],
  ["not a row"],
];

/** The common values plus what the rule itself names: each allowed value and its edges. */
function valuesFor(rule: PropertyRule, value: unknown): unknown[] {
  const extra: unknown[] = [value];
  if (rule.type === "oneOf") extra.push(...rule.values, "nope", rule.values[0]?.toUpperCase());
  if (rule.type === "number") extra.push(rule.min, rule.min - 1, rule.min + 0.5, rule.min + 1, String(rule.min), String(rule.min + 0.5));
  return [...COMMON_VALUES, ...extra];
}

/** Node-RED counts a property valid when validate returns true (3.1+ shows a returned string as the error). */
function editorAccepts(property: EditorProperty, value: unknown): boolean {
  if (!property.validate) return true;
  return property.validate.call({}, value, {}) === true;
}

/** A value in words for assertion messages (JSON.stringify loses undefined, NaN and Infinity). */
function show(value: unknown): string {
  if (value === undefined || (typeof value === "number" && !Number.isFinite(value))) return String(value);
  return JSON.stringify(value);
}

describe("editor and runtime: node properties (built .html vs nodes/lib/*/defaults.ts)", () => {
  const runtime = runtimeProperties();
  const htmlFiles = readdirSync(built).filter((f) => f.endsWith(".html"));

  it("finds a registered node type in every built .html, each with runtime defaults", () => {
    assert.ok(htmlFiles.length >= 2, `built .html files: ${htmlFiles.join(", ")}`);
    for (const file of htmlFiles) {
      const types = [...registeredTypes(path.join(built, file)).keys()];
      assert.ok(types.length > 0, `${file} registers no node type`);
      for (const type of types) assert.ok(runtime.has(type), `${file}: no nodes/lib/*/defaults.ts exports NODE_TYPE "${type}"`);
    }
  });

  for (const file of readdirSync(built).filter((f) => f.endsWith(".html"))) {
    for (const [type, definition] of registeredTypes(path.join(built, file))) {
      describe(`${type} (${file})`, () => {
        const specs = runtime.get(type) ?? {};

        it("has exactly the runtime's properties", () => {
          assert.deepEqual(Object.keys(definition.defaults).sort(), Object.keys(specs).sort());
        });

        for (const [name, property] of Object.entries(definition.defaults)) {
          it(`${name}: same default and the same values accepted and refused`, () => {
            const spec = specs[name];
            assert.ok(spec, `the editor has "${name}", the runtime's defaults do not`);
            // JSON round trip: the editor's values come from another realm (vm).
            assert.deepEqual(JSON.parse(JSON.stringify({ v: property.value })), JSON.parse(JSON.stringify({ v: spec.value })));
            const disagreements = valuesFor(spec.rule, spec.value)
              .filter((value) => editorAccepts(property, value) !== acceptsValue(spec.rule, value))
              .map((value) => `${show(value)}: editor ${editorAccepts(property, value)}, runtime ${acceptsValue(spec.rule, value)}`);
            assert.deepEqual(disagreements, []);
          });
        }
      });
    }
  }
});
