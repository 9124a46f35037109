// Each help page starts with a plain-language part that names every field of the node's edit dialog
// by the label the dialog shows (in each language), before the technical reference.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { repoRoot } from "../../support/node-red";
import { LANGUAGES } from "../../support/languages";

const nodesDir = path.join(repoRoot, "nodes");
const localesDir = path.join(nodesDir, "locales", "en-US");

/** A catalog text by its full key ("agent-callback-in.label.url"). */
function lookup(catalog: unknown, key: string): string | undefined {
  let value: unknown = catalog;
  for (const part of key.split(".")) value = value && typeof value === "object" ? (value as Record<string, unknown>)[part] : undefined;
  return typeof value === "string" ? value : undefined;
}

/** The texts of the dialog's labels (the catalog text each <label> shows), without a trailing "(...)" aside. */
export function dialogLabels(template: string, catalog: unknown): string[] {
  const labels: string[] = [];
  for (const m of template.matchAll(/<label\b[^>]*>[\s\S]*?<\/label>/g)) {
    const key = /data-i18n="([\w.-]+)"/.exec(m[0])?.[1];
    if (!key) continue; // a spacer label (&nbsp;)
    const text = lookup(catalog, key);
    assert.ok(text, `the dialog's label ${key} has no text in the catalog`);
    labels.push(text.replace(/\s*\(.*\)\s*$/, "").trim());
  }
  return [...new Set(labels)];
}

const NODES = [
  { file: "callback-in", type: "agent-callback-in" },
  { file: "callback-out", type: "agent-callback-out" },
  { file: "callback-store", type: "agent-callback-store" },
];

describe("help pages (nodes/locales/<lang>/*.html): plain words first", () => {
  for (const { file, type } of NODES) {
    it(`${type}: the part before the technical reference names every field of the dialog by its label`, () => {
      const html = readFileSync(path.join(nodesDir, `${file}.html`), "utf8");
      const template = html.slice(html.indexOf(`data-template-name="${type}"`));
      const catalog = JSON.parse(readFileSync(path.join(localesDir, `${file}.json`), "utf8")) as unknown;
      const labels = dialogLabels(template, catalog);
      assert.ok(labels.length >= 6, `only ${labels.length} labels found in ${file}.html: ${labels.join(", ")}`);

      const help = readFileSync(path.join(localesDir, `${file}.html`), "utf8");
      const reference = help.indexOf("Technical reference");
      assert.ok(reference > 0, "the help has no technical reference after a plain part");
      const plain = help.slice(0, reference);
      for (const part of ["What it does", "What to fill in", "What comes out"]) assert.ok(plain.includes(part), `no "${part}"`);
      const missing = labels.filter((label) => !plain.includes(`<b>${label}</b>`));
      assert.deepEqual(missing, [], `fields of the dialog not named (in <b>) in the plain part of ${file}'s help`);
    });
  }

  // In every language, the plain part (before the <hr> that opens the technical reference) names each
  // field by that language's label, so a reader finds in the help the words the dialog shows.
  for (const lang of LANGUAGES) {
    it(`${lang}: the plain part of each help page names every field of the dialog by its ${lang} label`, () => {
      const missing = NODES.flatMap(({ file, type }) => {
        const html = readFileSync(path.join(nodesDir, `${file}.html`), "utf8");
        const template = html.slice(html.indexOf(`data-template-name="${type}"`));
        const catalog = JSON.parse(readFileSync(path.join(nodesDir, "locales", lang, `${file}.json`), "utf8")) as unknown;
        const help = readFileSync(path.join(nodesDir, "locales", lang, `${file}.html`), "utf8");
        const plain = help.slice(0, help.indexOf("<hr>"));
        assert.ok(plain.length > 0, `${lang}/${file}.html has no <hr> before its technical reference`);
        return dialogLabels(template, catalog)
          .filter((label) => !plain.includes(`<b>${label}</b>`))
          .map((label) => `${file}: <b>${label}</b>`);
      });
      assert.deepEqual(missing, [], `${lang}: fields of the dialog not named (in <b>, as the dialog shows them) in the help's plain part`);
    });
  }

  it("reads the labels as the dialog shows them", () => {
    const template = [
      '<label for="a"><i class="fa fa-x"></i> <span data-i18n="n.label.a"></span></label>',
      '<label>&nbsp;</label><label for="b" style="width:auto" data-i18n="n.label.b"></label>',
    ].join("\n");
    assert.deepEqual(dialogLabels(template, { n: { label: { a: "Agent loop ID", b: "Also retry (400, 401)" } } }), [
      "Agent loop ID",
      "Also retry",
    ]);
  });
});
