// node-red-node-test-helper, initialised on the Node-RED under test (NODE_RED_PACKAGE), with the
// types of the parts our specs use (the package ships none).
import type supertest from "supertest";
import { nodeRedMain } from "./node-red";

/** A msg as a node of a loaded flow receives it. */
export interface HelperMsg {
  payload?: unknown;
  [key: string]: unknown;
}

/** A node of a loaded flow: the helper spies on its input and its calls (e.g. "call:status"). */
export interface HelperNode<M = HelperMsg> {
  on(event: "input", handler: (msg: M) => void): void;
  on(event: "call:status" | "call:warn" | "call:error", handler: (call: { args: unknown[] }) => void): void;
  receive(msg: M): void;
}

/** What the runtime logged while the flow was loaded (helper.log(), a sinon spy). */
export interface LogSpy {
  args: Array<[{ level: number; msg: unknown; id?: string }]>;
  ERROR: number;
  WARN: number;
}

export interface TestHelper {
  init(nodeRedPath: string): void;
  settings(settings?: Record<string, unknown>): Record<string, unknown>;
  load(nodes: unknown[], flow: unknown[], credentials?: Record<string, unknown>): Promise<void>;
  unload(): Promise<void>;
  getNode<M = HelperMsg>(id: string): HelperNode<M>;
  startServer(): Promise<void>;
  stopServer(): Promise<void>;
  /** supertest on the admin app only; it cannot reach RED.httpNode routes. */
  request(): ReturnType<typeof supertest>;
  log(): LogSpy;
  _redNodes: { setFlows(flow: unknown[], credentials: Record<string, unknown>, type: string): Promise<unknown> };
  _events: { once(event: string, fn: () => void): void };
}

// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS module without type declarations, typed by the cast
export const helper = require("node-red-node-test-helper") as TestHelper;
helper.init(nodeRedMain());
