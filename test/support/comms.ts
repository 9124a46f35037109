// What the editor would see: node statuses and debug messages from Node-RED's comms websocket
// (with `ws`, which Node-RED itself depends on, so it is installed beside it).
import path from "node:path";
import { nodeRedDir } from "./node-red";

interface MinimalWebSocket {
  on(event: "message", listener: (data: Buffer) => void): void;
  on(event: "open" | "close", listener: () => void): void;
  on(event: "error", listener: (err: Error) => void): void;
  send(data: string): void;
  close(): void;
}
type WebSocketConstructor = new (url: string) => MinimalWebSocket;

export interface NodeStatusEvent {
  text?: string;
  fill?: string;
  shape?: string;
}

/** A debug node's message as the debug sidebar gets it. */
export interface DebugMessage {
  id: string;
  name?: string;
  msg: string;
  format?: string;
}

export class CommsWatcher {
  /** Every status event, by node id, in order. */
  readonly statuses = new Map<string, NodeStatusEvent[]>();
  /** Debug messages: the debug node's name and its msg text. */
  readonly debug: DebugMessage[] = [];
  private socket: MinimalWebSocket | undefined;

  async connect(baseUrl: string): Promise<void> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- resolved at run time from the Node-RED under test (NODE_RED_PACKAGE)
    const WebSocket = require(require.resolve("ws", { paths: [nodeRedDir(), path.join(nodeRedDir(), "..")] })) as WebSocketConstructor;
    const socket = new WebSocket(`${baseUrl.replace(/^http/, "ws")}/comms`);
    this.socket = socket;
    socket.on("message", (data) => {
      const parsed: unknown = JSON.parse(data.toString());
      for (const item of Array.isArray(parsed) ? parsed : [parsed]) {
        const event = item as { topic?: string; data?: unknown };
        if (event.topic?.startsWith("status/")) {
          const id = event.topic.slice("status/".length);
          const list = this.statuses.get(id) ?? [];
          list.push((event.data ?? {}) as NodeStatusEvent);
          this.statuses.set(id, list);
        } else if (event.topic === "debug" && event.data) {
          this.debug.push(event.data as DebugMessage);
        }
      }
    });
    await new Promise<void>((resolve, reject) => {
      socket.on("open", () => resolve());
      socket.on("error", reject);
    });
    socket.send(JSON.stringify({ subscribe: "status/#" }));
    socket.send(JSON.stringify({ subscribe: "debug" }));
  }

  /** The latest status of node `id`. */
  status(id: string): NodeStatusEvent | undefined {
    const list = this.statuses.get(id);
    return list?.[list.length - 1];
  }

  close(): void {
    this.socket?.close();
  }
}
