// The import rule of CONTRIBUTING.md, checked on the sources: arrows point down only (node and
// plugin files -> lib/metrics -> lib/receive, lib/send -> lib/outbox -> lib/store -> lib/shared) and no
// circle. lib/metrics names what callback in and out report, so it sits above both.
import { strict as assert } from "node:assert";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";

const ROOT = join(__dirname, "..", "..");
const NODES = join(ROOT, "nodes");

/** Higher layers may import lower ones; folders on one layer do not import each other. */
const LAYERS: Record<string, number> = { metrics: 4, receive: 3, send: 3, outbox: 2, store: 1, shared: 0 };

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === "locales" ? [] : sources(path);
    return e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") ? [path] : [];
  });
}

/** A module's key: its path under nodes/ without the extension, `/index` folded into the folder. */
function key(path: string): string {
  return relative(NODES, path)
    .replace(/\.ts$/, "")
    .replace(/\/index$/, "");
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const found = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;]*?\bfrom\s+"(\.[^"]+)"/g)];
  return found.map((m) => key(normalize(join(dirname(file), m[1] as string)) + ".ts"));
}

/** The layer folder of a module, or undefined for node and plugin files (the top). */
function folder(mod: string): string | undefined {
  const parts = mod.split("/");
  return parts[0] === "lib" ? parts[1] : undefined;
}

function graph(): Map<string, string[]> {
  return new Map(sources(NODES).map((file) => [key(file), importsOf(file)]));
}

function upwardImports(edges: Map<string, string[]>): string[] {
  const wrong: string[] = [];
  for (const [from, targets] of edges) {
    const own = folder(from);
    for (const to of targets) {
      const theirs = folder(to);
      if (own === undefined || own === theirs) continue;
      const ok = theirs !== undefined && (LAYERS[theirs] ?? 99) < (LAYERS[own] ?? -1);
      if (!ok) wrong.push(`${from} -> ${to}`);
    }
  }
  return wrong;
}

function circles(edges: Map<string, string[]>): string[] {
  const found: string[] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (mod: string): void => {
    state.set(mod, "open");
    stack.push(mod);
    for (const next of edges.get(mod) ?? []) {
      if (state.get(next) === "open") found.push([...stack.slice(stack.indexOf(next)), next].join(" -> "));
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(mod, "done");
  };
  for (const mod of edges.keys()) if (!state.has(mod)) visit(mod);
  return found;
}

describe("structure: imports in nodes/", () => {
  const edges = graph();

  it("reads the modules and their imports", () => {
    assert.ok(edges.size > 50, `found only ${edges.size} modules`);
    assert.ok((edges.get("callback-out") ?? []).some((m) => m.startsWith("lib/send/")));
  });

  it("every import resolves to a module under nodes/", () => {
    const missing = [...edges].flatMap(([from, to]) => to.filter((m) => !edges.has(m)).map((m) => `${from} -> ${m}`));
    assert.deepEqual(missing, []);
  });

  it("no import runs up or sideways between lib folders", () => {
    assert.deepEqual(upwardImports(edges), []);
  });

  it("no circle of imports", () => {
    assert.deepEqual(circles(edges), []);
  });

  it("the checks catch a circle and an upward import", () => {
    const bad = new Map([
      ["lib/shared/a", ["lib/send/b"]],
      ["lib/send/b", ["lib/shared/a"]],
    ]);
    assert.deepEqual(upwardImports(bad), ["lib/shared/a -> lib/send/b"]);
    assert.equal(circles(bad).length, 1);
  });
});
