// The small part of Node-RED's API these nodes use. Node-RED ships no type package, so we declare
// what we rely on here (extend additively) and keep `any` out of the node files.
import type { Application, RequestHandler } from "express";

export interface NodeStatus {
  fill?: "red" | "green" | "yellow" | "blue" | "grey";
  shape?: "ring" | "dot";
  text?: string;
}

export interface NodeMessage {
  _msgid?: string;
  payload?: unknown;
  topic?: string;
  [key: string]: unknown;
}

export interface NodeDef {
  id: string;
  type: string;
  name?: string;
  z?: string;
  [key: string]: unknown;
}

/** A running node instance (`this` inside the constructor passed to registerType). */
export interface Node<Credentials = Record<string, string | undefined>> {
  id: string;
  type: string;
  name?: string;
  credentials: Credentials;
  /** The ids wired to each output (set by the runtime from the flow). */
  wires?: string[][];
  send(msg: NodeMessage | Array<NodeMessage | NodeMessage[] | null> | null): void;
  status(status: NodeStatus | Record<string, never>): void;
  log(msg: unknown): void;
  warn(msg: unknown): void;
  error(msg: unknown, original?: NodeMessage): void;
  on(
    event: "input",
    listener: (msg: NodeMessage, send: (msg: NodeMessage | Array<NodeMessage | null>) => void, done: (err?: Error) => void) => void,
  ): void;
  on(event: "close", listener: (removed: boolean, done: () => void) => void): void;
  on(event: string, listener: (...args: never[]) => void): void;
}

export interface NodeRedSettings {
  httpNodeRoot?: string | false;
  httpAdminRoot?: string | false;
  httpNodeCors?: Record<string, unknown>;
  httpNodeMiddleware?: RequestHandler | RequestHandler[];
  userDir?: string;
  [key: string]: unknown;
}

export interface NodeAPI {
  nodes: {
    createNode(node: object, def: NodeDef): void;
    registerType(
      type: string,
      constructor: (this: Node, def: NodeDef) => void,
      options?: { credentials?: Record<string, { type: "text" | "password" }>; settings?: Record<string, unknown> },
    ): void;
    getNode(id: string): Node | null;
  };
  settings: NodeRedSettings;
  httpNode: Application;
  httpAdmin: Application;
  auth: {
    /** Admin-API middleware that lets through only users with this permission (e.g. "<type>.write"). */
    needsPermission(permission: string): RequestHandler;
  };
  log: {
    info(msg: unknown): void;
    warn(msg: unknown): void;
    error(msg: unknown): void;
    debug(msg: unknown): void;
  };
  util: {
    generateId(): string;
    cloneMessage<T>(msg: T): T;
    /** A flow/global/environment setting as seen from this node (env vars of its flow, group, process). */
    getSetting?(node: object, name: string): unknown;
  };
  _(key: string, substitutions?: Record<string, string | number>): string;
}
