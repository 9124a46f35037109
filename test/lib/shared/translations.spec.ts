// Every language has exactly the keys of en-US, keeps each __placeholder__, translates its texts
// (names and codes excepted, listed below), keeps status texts short, and has every help page.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { repoRoot } from "../../support/node-red";
import { leafKeys } from "../../support/locale-keys";

import { LANGUAGES } from "../../support/languages";
const CATALOG_DIRS = [path.join(repoRoot, "nodes", "locales"), path.join(repoRoot, "nodes", "plugins", "locales")];

/**
 * Values that are the same in every language because they are names, codes or units
 * (compared after trimming, case-sensitive). Anything else identical to English counts as untranslated.
 */
const SAME_EVERYWHERE = new Set([
  "TLS",
  "OpenAI",
  "Anthropic",
  "KiB",
  "MiB",
  "ms",
  "Redis",
  "URL",
  "HMAC",
  "ID",
  "Token",
  "Header",
  "Status",
  "Standard Webhooks",
  "execution_id",
  "completed",
  "failed",
  "timeout",
  "msg.payload",
  "msg",
  "Port",
  "Proxy",
  "Secret",
  "API",
  "Endpoint",
  "Name",
  "Timeout",
  "Text",
  "Details",
  "Position",
  "Version",
  "Outbox",
  "Info",
  "Host",
  // Node names, as Node-RED keeps its own ("write file" in de and ja): the help pages call them so.
  "callback in",
  "callback out",
  "callback store",
  "callback in __url__",
  "msg.url",
  "Standard Webhooks (webhook-signature)",
  "HMAC-SHA256 (X-Signature: sha256=...)",
  "__field__: __expected__",
]);
/** How many values per language may still equal English beyond SAME_EVERYWHERE (loanwords such as "Signatur"). */
const IDENTICAL_ALLOWED = 6;

type Catalog = Record<string, unknown>;

function readJson(file: string): Catalog {
  return JSON.parse(readFileSync(file, "utf8")) as Catalog;
}

function leafValues(catalog: unknown, prefix = ""): Map<string, string> {
  const out = new Map<string, string>();
  for (const key of leafKeys(catalog, prefix)) {
    let value: unknown = catalog;
    for (const part of (prefix ? key.slice(prefix.length + 1) : key).split(".")) value = (value as Catalog)[part];
    out.set(key, String(value));
  }
  return out;
}

/** Each catalog file of en-US, as [directory, file name]. */
function catalogFiles(ext: string): Array<[string, string]> {
  return CATALOG_DIRS.flatMap((dir) =>
    readdirSync(path.join(dir, "en-US"))
      .filter((f) => f.endsWith(ext))
      .map((f): [string, string] => [dir, f]),
  );
}

function placeholders(text: string): string[] {
  return [...text.matchAll(/__([\w.-]+)__/g)].map((m) => m[1] ?? "").sort();
}

/** What is wrong with one language's catalog against en-US (empty when nothing is). */
export function catalogProblems(english: Catalog, other: Catalog, lang: string, file: string): string[] {
  const en = leafValues(english);
  const tr = leafValues(other);
  const problems: string[] = [];
  for (const key of en.keys()) if (!tr.has(key)) problems.push(`${lang}/${file}: missing ${key}`);
  for (const key of tr.keys()) if (!en.has(key)) problems.push(`${lang}/${file}: extra ${key}`);
  for (const [key, value] of en) {
    const translated = tr.get(key);
    if (translated === undefined) continue;
    const want = placeholders(value);
    const got = placeholders(translated);
    if (want.join() !== got.join()) problems.push(`${lang}/${file}: ${key} has placeholders [${got.join()}], en-US [${want.join()}]`);
    if (/(^|\.)status\./.test(key) && value.length <= 24 && translated.length > Math.max(28, value.length * 1.6)) {
      problems.push(`${lang}/${file}: ${key} status text "${translated}" is far longer than en-US "${value}"`);
    }
  }
  return problems;
}

/** Keys whose value is the English text and not a name or code. */
export function untranslated(english: Catalog, other: Catalog): string[] {
  const tr = leafValues(other);
  return [...leafValues(english)]
    .filter(([key, value]) => tr.get(key) === value && !SAME_EVERYWHERE.has(value.trim()) && /[a-z]{2}/i.test(value))
    .map(([key]) => key);
}

describe("translations (nodes/locales/<lang>, nodes/plugins/locales/<lang>)", () => {
  for (const lang of LANGUAGES) {
    describe(lang, () => {
      it("has every catalog with exactly en-US's keys and placeholders, and short status texts", () => {
        const problems: string[] = [];
        for (const [dir, file] of catalogFiles(".json")) {
          const target = path.join(dir, lang, file);
          if (!existsSync(target)) {
            problems.push(`${lang}/${file}: file missing`);
            continue;
          }
          problems.push(...catalogProblems(readJson(path.join(dir, "en-US", file)), readJson(target), lang, file));
        }
        assert.deepEqual(problems, [], `add or fix these in ${lang} (en-US is the model)`);
      });

      it(`leaves at most ${IDENTICAL_ALLOWED} texts identical to English`, () => {
        const same = catalogFiles(".json").flatMap(([dir, file]) => {
          const target = path.join(dir, lang, file);
          return existsSync(target) ? untranslated(readJson(path.join(dir, "en-US", file)), readJson(target)) : [];
        });
        assert.ok(same.length <= IDENTICAL_ALLOWED, `${lang}: still English: ${same.join(", ")}`);
      });

      it("has each node's help page, in its data-help-name wrapper, with the Reference links", () => {
        for (const [dir, file] of catalogFiles(".html")) {
          const english = readFileSync(path.join(dir, "en-US", file), "utf8");
          const target = path.join(dir, lang, file);
          assert.ok(existsSync(target), `${lang}/${file} missing`);
          const text = readFileSync(target, "utf8");
          const wrapper = /<script type="text\/html" data-help-name="([\w-]+)">/.exec(english)?.[0] ?? "<none>";
          assert.ok(text.includes(wrapper), `${lang}/${file} lacks ${wrapper}`);
          assert.ok(text.trimEnd().endsWith("</script>"), `${lang}/${file} does not end with </script>`);
          assert.notEqual(text, english, `${lang}/${file} is the English page`);
          const links = (page: string): string[] => [...page.matchAll(/href="([^"]+)"/g)].map((m) => m[1] ?? "").sort();
          assert.deepEqual(links(text), links(english), `${lang}/${file} links differ from en-US`);
        }
      });
    });
  }

  describe("the checks themselves", () => {
    const english = { n: { status: { ok: "ok __n__ items" }, label: { name: "Name", save: "Save the file" } } };
    it("find a missing key, an extra key, a dropped placeholder and a long status", () => {
      const other = { n: { status: { ok: "in Ordnung, alle Elemente sind jetzt gespeichert" }, label: { extra: "x", save: "Speichern" } } };
      assert.deepEqual(catalogProblems(english, other, "de", "n.json").sort(), [
        "de/n.json: extra n.label.extra",
        "de/n.json: missing n.label.name",
        "de/n.json: n.status.ok has placeholders [], en-US [n]",
        'de/n.json: n.status.ok status text "in Ordnung, alle Elemente sind jetzt gespeichert" is far longer than en-US "ok __n__ items"',
      ]);
    });
    it("count a text left in English but not a name", () => {
      assert.deepEqual(untranslated(english, { n: { status: { ok: "ok __n__ items" }, label: { name: "Name", save: "Save the file" } } }), [
        "n.status.ok",
        "n.label.save",
      ]);
    });
  });
});
