// callback out's User-Agent names the package and its version, read once from package.json.
import path from "node:path";
import { readJsonFile } from "../shared/json-file";

/** The package version, from dist/nodes/lib/send/ (installed) or nodes/lib/send/ (run from source by the tests). */
function readVersion(): string {
  for (const up of [
    ["..", "..", "..", ".."],
    ["..", "..", ".."],
  ]) {
    const pkg = readJsonFile(path.join(__dirname, ...up, "package.json"));
    if (pkg && typeof pkg === "object" && "name" in pkg && pkg.name === "node-red-contrib-agent-callback" && "version" in pkg) {
      return String(pkg.version);
    }
  }
  return "unknown";
}

export const USER_AGENT = `node-red-contrib-agent-callback/${readVersion()}`;
