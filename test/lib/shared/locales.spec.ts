// Every message key the nodes use (runtime TypeScript and editor HTML) is in the English catalogs,
// and every catalog key is used; keys of Node-RED's own catalogs exist in the Node-RED under test.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { nodeRedDir, repoRoot } from "../../support/node-red";
import { compareKeys, keyUses, leafKeys, type SourceFile } from "../../support/locale-keys";

const nodesDir = path.join(repoRoot, "nodes");
const localesDir = path.join(nodesDir, "locales", "en-US");

function sources(dir: string): SourceFile[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((entry) => path.join(dir, entry))
    .filter((file) => /\.(ts|html)$/.test(file) && !file.startsWith(`${path.join(nodesDir, "locales")}${path.sep}`))
    .map((file) => ({ path: path.relative(repoRoot, file).split(path.sep).join("/"), text: readFileSync(file, "utf8") }));
}

function readJson(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
}

/** Our catalogs by node type (full keys "type.a.b"), and Node-RED's core and editor catalogs. */
function catalogs(): Record<string, string[]> {
  const result: Record<string, string[]> = {};
  for (const file of readdirSync(localesDir).filter((f) => f.endsWith(".json"))) {
    for (const [type, messages] of Object.entries(readJson(path.join(localesDir, file)))) {
      // The editor itself reads palette.label.<category> from the catalog of the node that opens the category.
      if (type !== "palette") result[type] = leafKeys(messages, type);
    }
  }
  const core = (pkg: string, file: string): string[] =>
    leafKeys(
      readJson(path.join(path.dirname(require.resolve(`${pkg}/package.json`, { paths: [nodeRedDir()] })), "locales", "en-US", file)),
    );
  result["node-red"] = core("@node-red/nodes", "messages.json");
  result.editor = core("@node-red/editor-client", "editor.json");
  return result;
}

describe("message catalogs (nodes/locales/en-US/*.json)", () => {
  it("hold every key the nodes use, and only those", () => {
    const all = catalogs();
    const ours = Object.keys(all).filter((c) => c !== "node-red" && c !== "editor");
    const uses = keyUses(sources(nodesDir), ours);
    // The scan reads both sides: keys from the runtime and from each editor file.
    for (const type of ours) {
      assert.ok(
        uses.some((u) => u.catalog === type && u.file.endsWith(".ts")),
        `no runtime use of ${type}`,
      );
      assert.ok(
        uses.some((u) => u.catalog === type && u.file.endsWith(".html")),
        `no editor use of ${type}`,
      );
    }
    const { missing, unused, unknownCatalog } = compareKeys(uses, all);
    assert.deepEqual(missing, [], "keys used in nodes/ but missing from the catalogs");
    assert.deepEqual(unknownCatalog, [], "keys in a namespace that is neither ours nor Node-RED's");
    assert.deepEqual(unused, [], "catalog keys that nothing in nodes/ uses");
  });
});

describe("the key scanner (test/support/locale-keys.ts)", () => {
  const catalog = {
    "my-node": ["my-node.label.name", "my-node.status.ok", "my-node.causes.a", "my-node.causes.b", "my-node.errors.bad"],
    "node-red": ["common.label.name"],
    editor: ["common.notification.error"],
  };
  const nodeFile = {
    path: "nodes/my-node.ts",
    text: 'import { check } from "./lib/side/check";\nconst t = messagesFor(tr, "my-node", "my-node");\nt("status.ok");\nt(`causes.${c}`);\nRED.nodes.registerType("my-node", X);',
  };

  it("follows imports from the node file to a lib module that is handed a translate function", () => {
    const lib = {
      path: "nodes/lib/side/check.ts",
      text: [
        "export type Text = (key: string, substitutions?: Subs) => string;",
        "export function check(message: Text) { message(\"errors.bad\"); message('errors.gone'); }",
        'export const refused = { ok: false, key: "errors.handed-up" };',
        'class Sender { constructor(private t: Text) {} fail() { return this.t("errors.member"); } }',
      ].join("\n"),
    };
    const uses = keyUses([nodeFile, lib], ["my-node"]);
    const result = compareKeys(uses, catalog);
    assert.deepEqual(result.missing.sort(), [
      "nodes/lib/side/check.ts: my-node.errors.gone",
      "nodes/lib/side/check.ts: my-node.errors.handed-up",
      "nodes/lib/side/check.ts: my-node.errors.member",
    ]);
    assert.deepEqual(result.unused, ["my-node.label.name"]);
  });

  it("does not follow an import type (a module whose types a node uses speaks for another node)", () => {
    const other = {
      path: "nodes/other.ts",
      text: 'import type { Cause } from "./lib/side/words";\nRED.nodes.registerType("other-node", X);',
    };
    const words = {
      path: "nodes/lib/side/words.ts",
      text: 'export type Cause = string;\nexport function word(t: Translate) { return t("errors.bad"); }',
    };
    const uses = keyUses(
      [
        nodeFile,
        other,
        words,
        {
          ...nodeFile,
          path: "nodes/my-node-b.ts",
          text: 'import { word } from "./lib/side/words";\nRED.nodes.registerType("my-node", Y);',
        },
      ],
      ["my-node", "other-node"],
    );
    assert.deepEqual(
      uses.filter((u) => u.file === "nodes/lib/side/words.ts").map((u) => u.key),
      ["my-node.errors.bad"],
    );
  });

  it('reads the editor\'s RED._, this._, t(), NS + "..." and data-i18n forms, core keys included', () => {
    const html = {
      path: "nodes/my-node.html",
      text: [
        '<script>var NS = "my-node."; function t(k) { return RED._("mod/my-node:my-node." + k); }',
        'RED.nodes.registerType("my-node", { label: function () { return this._(NS + "label.name") + t("label.gone"); } });',
        'RED.notify(RED._("common.notification.error"));',
        '</script><span data-i18n="[placeholder]node-red:common.label.name;my-node.label.nope"></span>',
        '<span data-i18n="node-red:common.label.missing"></span>',
      ].join("\n"),
    };
    const result = compareKeys(keyUses([html], ["my-node"]), catalog);
    assert.deepEqual(result.missing.sort(), [
      "nodes/my-node.html: my-node.label.gone",
      "nodes/my-node.html: my-node.label.nope",
      "nodes/my-node.html: node-red:common.label.missing",
    ]);
    assert.deepEqual(result.unused, ["my-node.status.ok", "my-node.causes.a", "my-node.causes.b", "my-node.errors.bad"]);
  });

  it("takes RED._ and RED.clipboard.copyText's message as the editor's keys unless they name our catalog", () => {
    const html = {
      path: "nodes/my-node.html",
      text: [
        '<script>var NS = "my-node."; var CATALOG = "mod/my-node:my-node.";',
        'RED.nodes.registerType("my-node", { oneditprepare: function () {',
        '  RED.clipboard.copyText($("#a").text(), $(this), NS + "label.name");',
        '  RED.clipboard.copyText(f("x", 1), $(this), CATALOG + "status.ok");',
        "  RED.clipboard.copyText(v, el, 'common.notification.error');",
        '  RED.notify(RED._("my-node.errors.bad")); RED.notify(RED._(CATALOG + "causes.a"));',
        '  RED._("mod/other-node:my-node.causes.b"); RED._("mod/my-node:my-node.label.gone");',
        "} });</script>",
      ].join("\n"),
    };
    const result = compareKeys(keyUses([html], ["my-node"]), catalog);
    assert.deepEqual(result.missing.sort(), [
      "nodes/my-node.html: editor:my-node.errors.bad",
      "nodes/my-node.html: editor:my-node.label.name",
      "nodes/my-node.html: my-node.label.gone",
    ]);
    assert.deepEqual(result.unknownCatalog, ["nodes/my-node.html: mod/other-node:my-node.causes.b"]);
    assert.deepEqual(result.unused, ["my-node.causes.b", "my-node.errors.bad"]);
  });
});
