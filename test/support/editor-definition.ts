// A node's editor definition as the editor gets it: the built .html's scripts run in node:vm with a
// minimal RED and $, and what they hand to RED.nodes.registerType is kept.
import { readFileSync } from "node:fs";
import vm from "node:vm";

/** One property of registerType's `defaults`. */
export interface EditorProperty {
  value: unknown;
  validate?: (this: unknown, value: unknown, options?: unknown) => unknown;
  [key: string]: unknown;
}

export interface EditorDefinition {
  defaults: Record<string, EditorProperty>;
  [key: string]: unknown;
}

/** The `<script type="text/javascript">` blocks of an editor .html, in order. */
export function editorScripts(html: string): string[] {
  return [...html.matchAll(/<script type="text\/javascript">([\s\S]*?)<\/script>/g)].map((m) => m[1] ?? "");
}

/** Runs the .html's editor scripts and returns the node types they register, by type. */
export function registeredTypes(htmlFile: string): Map<string, EditorDefinition> {
  const registered = new Map<string, EditorDefinition>();
  const RED = {
    nodes: { registerType: (type: string, definition: EditorDefinition) => registered.set(type, definition) },
    _: (key: string) => key,
    settings: {},
  };
  // Top-level code only registers; $ is only used inside the edit dialog's callbacks.
  const $ = (): never => {
    throw new Error("$ called while the editor script loads");
  };
  const context = vm.createContext({ RED, $, URL, console });
  (context as { window: unknown }).window = context;
  for (const script of editorScripts(readFileSync(htmlFile, "utf8"))) vm.runInContext(script, context, { filename: htmlFile });
  return registered;
}
