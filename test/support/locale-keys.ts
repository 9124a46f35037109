// Finds the message keys that the sources under nodes/ use, so a test can check them against the
// catalogs (nodes/locales/en-US/*.json) both ways: every key used exists, every key is used.
//
// What counts as a use (by reading the text, so keys added later are found without a list):
// - TypeScript: calls (also as members) of a translate function: `t(...)`, or a name declared with a translate
//   type (`Translate`, or any `type X = (key: string, ...) => string` alias under nodes/). Its
//   keys are relative to the node type(s) whose node file imports the module (directly or not).
//   A `key: "group.name"` property (a message handed up for the node to translate) is a use as well.
// - Editor HTML: `RED._(...)`, `this._(...)`, `t(...)` (relative to the type registered in the
//   file), `NS + "..."` where `NS` is a string constant, and every key in `data-i18n`.
// A key given as `"a.b." + x` or `` `a.b.${x}` `` uses every key under `a.b.`.
import path from "node:path";

export interface SourceFile {
  /** Path relative to the repository root, with "/" separators. */
  path: string;
  text: string;
}

/** One key a source uses: `catalog` is ours ("agent-callback-in" ...) or "node-red" / "editor". */
export interface KeyUse {
  file: string;
  catalog: string;
  /** Full key inside the catalog, e.g. "agent-callback-in.label.url"; ends with "." for a prefix. */
  key: string;
  prefix: boolean;
}

const QUOTED = String.raw`(["'\x60])((?:(?!\1)[^\\\n$]|\\.)*)(\$\{|\1\s*\+)?`;

/**
 * Keys passed as the first argument of calls to `names` (a literal, or a literal prefix); with
 * `members`, also as a member (`this.t(...)`, `options.t(...)`).
 */
function callArguments(text: string, names: string[], members = false): Array<{ key: string; prefix: boolean }> {
  if (names.length === 0) return [];
  const escaped = names.map((n) => n.replace(/[.$]/g, (c) => `\\${c}`)).join("|");
  const pattern = new RegExp(String.raw`(?<![\w$${members ? "" : "."}])(?:${escaped})\(\s*${QUOTED}`, "g");
  return [...text.matchAll(pattern)].map((m) => ({ key: m[2] ?? "", prefix: m[3] !== undefined }));
}

/**
 * Names of string constants ending in "." (key prefixes such as `var NS = "agent-callback-in."`, or
 * with the catalog's namespace, `"node-red-contrib-agent-callback/agent-callback-in:agent-callback-in."`).
 */
function prefixConstants(text: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const m of text.matchAll(/(?:var|let|const)\s+(\w+)\s*=\s*"((?:[\w/.-]+:)?[\w-]+(?:\.[\w-]+)*\.)"/g)) {
    found.set(m[1] ?? "", m[2] ?? "");
  }
  return found;
}

/** The top-level arguments of the call whose "(" is at `open`, as source text. */
function callArgumentTexts(text: string, open: number): string[] {
  const args: string[] = [];
  let depth = 0;
  let quote = "";
  let start = open + 1;
  for (let i = open; i < text.length; i++) {
    const c = text[i] ?? "";
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = "";
    } else if (c === '"' || c === "'" || c === "`") quote = c;
    else if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") {
      depth--;
      if (depth === 0) {
        args.push(text.slice(start, i).trim());
        return args;
      }
    } else if (c === "," && depth === 1) {
      args.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  return args;
}

/**
 * Keys that the editor looks up in its own namespace unless the key names one: `RED._(key)` and the
 * message of `RED.clipboard.copyText(value, element, key)`. A key of ours must then carry
 * "module/type:"; one without is looked up among the editor's keys (where ours are not).
 */
function editorLookups(text: string, constants: Map<string, string>): Array<{ raw: string; prefix: boolean }> {
  const found: Array<{ raw: string; prefix: boolean }> = [];
  const calls: Array<[RegExp, number]> = [
    [/(?<![\w$.])RED\._\(/g, 0],
    [/(?<![\w$.])RED\.clipboard\.copyText\(/g, 2],
  ];
  for (const [pattern, index] of calls) {
    for (const m of text.matchAll(pattern)) {
      const arg = callArgumentTexts(text, (m.index ?? 0) + m[0].length - 1)[index] ?? "";
      const literal = /^(?:(\w+)\s*\+\s*)?(["'\x60])((?:(?!\2)[^\\\n$]|\\.)*)(\$\{|\2\s*\+)?/.exec(arg);
      if (!literal) continue;
      const base = literal[1] === undefined ? "" : constants.get(literal[1]);
      if (base === undefined) continue;
      found.push({ raw: base + (literal[3] ?? ""), prefix: literal[4] !== undefined });
    }
  }
  return found;
}

/** Names of type aliases for a translate function: `type X = (key: string, ...) => string` or `= Translate`. */
export function translateTypes(files: SourceFile[]): string[] {
  const names = new Set(["Translate"]);
  for (const file of files) {
    for (const m of file.text.matchAll(/type\s+(\w+)\s*=\s*(?:\(\s*key\s*:\s*string[^)]*\)\s*=>\s*string|Translate)\s*;/g)) {
      names.add(m[1] ?? "");
    }
  }
  return [...names];
}

/** Node types each TypeScript file serves: those of the node files (registerType) that import it. */
export function nodeTypesByFile(files: SourceFile[]): Map<string, Set<string>> {
  const byPath = new Map(files.map((f) => [f.path, f]));
  const imports = new Map<string, string[]>();
  for (const file of files) {
    // `import type` brings no code, so no message calls: a node file reaches a module only through a real import.
    const code = file.text.replace(/\bimport\s+type\s[^;]*;/g, "");
    const targets = [...code.matchAll(/(?:from|import|require\()\s*"(\.{1,2}\/[^"]+)"/g)].map((m) =>
      path.posix.join(path.posix.dirname(file.path), `${m[1]}.ts`),
    );
    imports.set(
      file.path,
      targets.filter((t) => byPath.has(t)),
    );
  }
  const types = new Map<string, Set<string>>(files.map((f) => [f.path, new Set<string>()]));
  for (const file of files) {
    const registered = [...file.text.matchAll(/registerType\(\s*"([\w-]+)"/g)].map((m) => m[1] ?? "");
    const stack = registered.length > 0 ? [file.path] : [];
    const seen = new Set<string>();
    while (stack.length > 0) {
      const current = stack.pop() as string;
      if (seen.has(current)) continue;
      seen.add(current);
      for (const type of registered) types.get(current)?.add(type);
      stack.push(...(imports.get(current) ?? []));
    }
  }
  return types;
}

/** Splits "ns:key" forms into a catalog and a key; `ours` maps a message-catalog namespace to its node type. */
function absolute(raw: string, ourTypes: string[], prefix: boolean, file: string): KeyUse {
  const ns = /^([^:\s]+):(.*)$/.exec(raw);
  if (ns) {
    const [, namespace = "", key = ""] = ns;
    if (namespace === "node-red") return { file, catalog: "node-red", key, prefix };
    const root = key.split(".")[0] ?? "";
    // Node-RED files a node's catalog under "module/type": a key of ours in another namespace is not found.
    return { file, catalog: ourTypes.includes(root) && namespace.endsWith(`/${root}`) ? root : namespace, key, prefix };
  }
  const root = raw.split(".")[0] ?? "";
  return { file, catalog: ourTypes.includes(root) ? root : "editor", key: raw, prefix };
}

/** Every key use in the files, given the node types that have catalogs. */
export function keyUses(files: SourceFile[], ourTypes: string[]): KeyUse[] {
  const uses: KeyUse[] = [];
  const tsFiles = files.filter((f) => f.path.endsWith(".ts"));
  const typesOf = nodeTypesByFile(tsFiles);
  const translateTypeNames = translateTypes(tsFiles).join("|");
  for (const file of tsFiles) {
    const declared = [...file.text.matchAll(new RegExp(String.raw`(\w+)\s*\??:\s*(?:${translateTypeNames})\b`, "g"))].map(
      (m) => m[1] ?? "",
    );
    const assigned = [...file.text.matchAll(/(\w+)\s*=\s*messagesFor\(/g)].map((m) => m[1] ?? "");
    const names = [...new Set(["t", ...declared, ...assigned])];
    const keys = [
      ...callArguments(file.text, names, true),
      ...[...file.text.matchAll(/(?<![\w$])key:\s*"([\w-]+\.[\w.-]+)"/g)].map((m) => ({ key: m[1] ?? "", prefix: false })),
    ];
    for (const { key, prefix } of keys) {
      for (const type of typesOf.get(file.path) ?? []) uses.push({ file: file.path, catalog: type, key: `${type}.${key}`, prefix });
    }
  }
  for (const file of files.filter((f) => f.path.endsWith(".html"))) {
    const types = [...file.text.matchAll(/registerType\(\s*"([\w-]+)"/g)].map((m) => m[1] ?? "");
    for (const { key, prefix } of callArguments(file.text, ["t"])) {
      for (const type of types) uses.push({ file: file.path, catalog: type, key: `${type}.${key}`, prefix });
    }
    for (const { key, prefix } of callArguments(file.text, ["this._", "node._"])) {
      uses.push(absolute(key, ourTypes, prefix, file.path));
    }
    const constants = prefixConstants(file.text);
    for (const { raw, prefix } of editorLookups(file.text, constants)) {
      uses.push(raw.includes(":") ? absolute(raw, ourTypes, prefix, file.path) : { file: file.path, catalog: "editor", key: raw, prefix });
    }
    for (const [name, value] of constants) {
      for (const m of file.text.matchAll(new RegExp(String.raw`(?<![\w$.])${name}\s*\+\s*${QUOTED}`, "g"))) {
        uses.push(absolute(value + (m[2] ?? ""), ourTypes, m[3] !== undefined, file.path));
      }
    }
    for (const m of file.text.matchAll(/data-i18n="([^"]*)"/g)) {
      for (const part of (m[1] ?? "").split(";")) uses.push(absolute(part.replace(/^\[[^\]]*\]/, "").trim(), ourTypes, false, file.path));
    }
  }
  // `"ns:type." + key` in a helper that prefixes every key of a node names no key of its own.
  return uses.filter((u) => !(u.prefix && u.key.split(".").filter(Boolean).length < 2));
}

/** The leaf keys ("a.b.c") of a catalog object. */
export function leafKeys(catalog: unknown, prefix = ""): string[] {
  if (typeof catalog === "string") return [prefix];
  if (!catalog || typeof catalog !== "object") return [];
  return Object.entries(catalog).flatMap(([k, v]) => leafKeys(v, prefix ? `${prefix}.${k}` : k));
}

/** Keys used but missing from their catalog, and catalog keys no source uses. */
export function compareKeys(
  uses: KeyUse[],
  catalogs: Record<string, string[]>,
): { missing: string[]; unused: string[]; unknownCatalog: string[] } {
  const missing: string[] = [];
  const unknownCatalog: string[] = [];
  const used = new Set<string>();
  for (const use of uses) {
    const keys = catalogs[use.catalog];
    if (!keys) {
      unknownCatalog.push(`${use.file}: ${use.catalog}:${use.key}`);
      continue;
    }
    const matching = use.prefix ? keys.filter((k) => k.startsWith(use.key)) : keys.filter((k) => k === use.key);
    if (matching.length === 0) missing.push(`${use.file}: ${use.catalog === use.key.split(".")[0] ? "" : `${use.catalog}:`}${use.key}`);
    for (const k of matching) used.add(`${use.catalog}\0${k}`);
  }
  const ours = Object.keys(catalogs).filter((c) => c !== "node-red" && c !== "editor");
  const unused = ours.flatMap((c) => (catalogs[c] ?? []).filter((k) => !used.has(`${c}\0${k}`)));
  return { missing: [...new Set(missing)], unused, unknownCatalog: [...new Set(unknownCatalog)] };
}
