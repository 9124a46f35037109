// A JSON file shipped with the package (package.json, a locale catalog), or undefined when it is
// missing or unreadable: callers fall back to a default rather than fail to load the node.
import { readFileSync } from "node:fs";

export function readJsonFile(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as unknown;
  } catch {
    return undefined;
  }
}
