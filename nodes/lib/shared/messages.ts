// A node's translated messages: RED._ with the node's catalog, and the package's own English
// catalog when RED._ has none for a key (it then returns the key itself, e.g. under
// node-red-node-test-helper), so no log line, status or error ever shows a bare key.
import path from "node:path";
import { readJsonFile } from "./json-file";

export type Substitutions = Record<string, string | number>;
export type Translate = (key: string, substitutions?: Substitutions) => string;

/** `key` ("a.b.c") looked up in `catalog`, with Node-RED's __name__ substitutions applied. */
export function lookup(catalog: unknown, key: string, substitutions: Substitutions = {}): string | undefined {
  let value: unknown = catalog;
  for (const part of key.split(".")) {
    value = value && typeof value === "object" ? (value as Record<string, unknown>)[part] : undefined;
  }
  if (typeof value !== "string") return undefined;
  return value.replace(/__([A-Za-z0-9_-]+)__/g, (match, name: string) => (name in substitutions ? String(substitutions[name]) : match));
}

/**
 * The translate function of node type `type`, whose English catalog is
 * `locales/en-US/<catalogName>.json` beside the node files.
 */
export function messagesFor(translate: Translate, type: string, catalogName: string): Translate {
  const english = readJsonFile(path.join(__dirname, "..", "..", "locales", "en-US", `${catalogName}.json`));
  return (key, substitutions) => {
    const full = `${type}.${key}`;
    const translated = translate(full, substitutions);
    return translated === full ? (lookup(english, full, substitutions) ?? full) : translated;
  };
}
