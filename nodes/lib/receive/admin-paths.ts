// Paths a callback in must not take: with the node routes and the admin API under the same root,
// our raw-body marker would keep the editor's own POSTs (deploy, login) from their body parsers.
import type { Application } from "express";

/**
 * First path segments of @node-red/editor-api's routes (4.1 and 5.0: admin API, editor, auth,
 * projects, the comms websocket); test/lib/receive/admin-paths.spec.ts fails when an installed
 * Node-RED has one that is missing here.
 */
export const ADMIN_SEGMENTS: readonly string[] = [
  "auth",
  "comms",
  "context",
  "credentials",
  "diagnostics",
  "flow",
  "flows",
  "icons",
  "library",
  "locales",
  "nodes",
  "plugins",
  "projects",
  "resources",
  "settings",
  "theme",
];

interface RouteLayer {
  route?: unknown;
  match?(path: string): boolean;
}

function normalise(path: string): string {
  return path.replace(/\/{2,}/g, "/").replace(/\/+$/, "") || "/";
}

/**
 * The admin path that `fullPath` (httpNodeRoot + url) would collide with, or undefined. Routes
 * that nodes added to the admin app (RED.httpAdmin) count as well, matched as Express matches them.
 */
export function adminClash(fullPath: string, adminRoot: string | false | undefined, adminApp?: Application): string | undefined {
  if (adminRoot === false) return undefined;
  const root = normalise(adminRoot ?? "/");
  const path = normalise(fullPath).toLowerCase();
  const prefix = root === "/" ? "" : root.toLowerCase();
  if (prefix !== "" && path !== prefix && !path.startsWith(prefix + "/")) return undefined;
  const rest = path.slice(prefix.length) || "/";
  const segment = rest.split("/")[1] ?? "";
  if (ADMIN_SEGMENTS.includes(segment)) return `${prefix}/${segment}`;
  const stack = (adminApp as unknown as { _router?: { stack?: RouteLayer[] } } | undefined)?._router?.stack ?? [];
  for (const layer of stack) {
    if (layer.route && rest !== "/" && layer.match?.(rest)) return prefix + rest;
  }
  return undefined;
}
