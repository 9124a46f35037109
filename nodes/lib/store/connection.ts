// One connection to the shared store (Redis or Valkey), opened by the "callback store" config
// node and shared by the nodes that use it. The client package is required here, on first use,
// so that a Node-RED without a store configured never loads it.
import type { ConnectionOptions } from "node:tls";

/** The one command the store modules need: raw arguments in, the server's reply out. */
export interface StoreClient {
  sendCommand(args: string[]): Promise<unknown>;
  /** Calls `listener` on each message published on `channel`; resolves to the function that stops it. */
  subscribe?(channel: string, listener: () => void): Promise<() => Promise<void>>;
}

export interface StoreOptions {
  /** redis://host:port/db or rediss://host:port/db */
  url: string;
  /** Put in front of every key, so that several setups can share one server. */
  prefix: string;
  username?: string | undefined;
  password?: string | undefined;
  /** TLS options (from a tls-config node) for rediss:// URLs. */
  tls?: ConnectionOptions | undefined;
  /** Milliseconds a command may wait for its reply before it fails (default 5,000). */
  commandTimeoutMs?: number;
  /** Why the connection must not be opened at all (a setting to fix): it stays down with this error. */
  refuse?: string | undefined;
  /** Says what to fix for an error the user can fix (undefined: the error's own message is shown). */
  explain?: ((err: Error) => string | undefined) | undefined;
}

export type StoreState = "connecting" | "ready" | "down";

/** What the client package gives us, typed only as far as we use it. */
interface RedisClientLike {
  sendCommand(args: string[]): Promise<unknown>;
  subscribe(channel: string, listener: () => void): Promise<void>;
  unsubscribe(channel: string, listener: () => void): Promise<void>;
  on(event: "ready" | "end" | "reconnecting", listener: () => void): unknown;
  on(event: "error", listener: (err: Error) => void): unknown;
  connect(): Promise<unknown>;
  destroy(): void;
  close(): Promise<void>;
}

interface RedisClientModule {
  createClient(options: Record<string, unknown>): RedisClientLike;
  ErrorReply: new (...args: never[]) => Error;
}

/** Whether the client package was loaded by this process (for the test that it is loaded lazily). */
export const CLIENT_PACKAGE = "@redis/client";

let clientPackage: RedisClientModule | undefined;

function loadClientPackage(): RedisClientModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when a store is configured
  clientPackage ??= require(CLIENT_PACKAGE) as RedisClientModule;
  return clientPackage;
}

/** Thrown by every store operation while the store cannot be reached. */
export class StoreUnavailableError extends Error {
  constructor(readonly cause: string) {
    super(`store unreachable: ${cause}`);
    this.name = "StoreUnavailableError";
  }
}

/** The client package's options for `options`. */
function clientSettings(options: StoreOptions): Record<string, unknown> {
  const socket: Record<string, unknown> = { reconnectStrategy: reconnectDelay, connectTimeout: 5000 };
  // The client takes TLS from the URL's scheme alone: rediss:// never falls back to plain text.
  if (options.url.startsWith("rediss:")) Object.assign(socket, options.tls ?? {}, { tls: true });
  const settings: Record<string, unknown> = {
    url: options.url,
    socket,
    // A command while disconnected fails at once instead of waiting in memory: callback in
    // answers 503 and callback out refuses the msg, so nothing is acknowledged that is not stored.
    disableOfflineQueue: true,
    commandOptions: { timeout: options.commandTimeoutMs ?? 5000 },
  };
  if (options.username) settings.username = options.username;
  if (options.password) settings.password = options.password;
  return settings;
}

/** Reconnect delays: quick at first, then every 2 s at most, for as long as the node runs. */
function reconnectDelay(retries: number): number {
  return Math.min(50 * 2 ** Math.min(retries, 6), 2000);
}

export class StoreConnection implements StoreClient {
  private readonly client: RedisClientLike | undefined;
  private currentState: StoreState = "connecting";
  private error = "";
  private readonly listeners = new Set<(state: StoreState, error: string) => void>();
  private closed = false;
  /** Settles when the first connection attempt has succeeded or failed. */
  private readonly firstAttempt: Promise<void>;
  private settleFirstAttempt: () => void = () => undefined;

  constructor(readonly options: StoreOptions) {
    this.firstAttempt = new Promise((resolve) => (this.settleFirstAttempt = resolve));
    if (options.refuse !== undefined) {
      this.setState("down", options.refuse);
      return;
    }
    const client = loadClientPackage().createClient(clientSettings(options));
    this.client = client;
    client.on("ready", () => this.setState("ready", ""));
    client.on("error", (err) => this.setState("down", this.describe(err)));
    client.on("reconnecting", () => {
      if (this.currentState === "ready") this.setState("down", "connection lost");
    });
    client.on("end", () => {
      if (!this.closed) this.setState("down", "connection closed");
    });
    // The first connection may fail (store down at start): the client keeps retrying.
    client.connect().catch((err: unknown) => this.setState("down", this.describe(err)));
  }

  get state(): StoreState {
    return this.currentState;
  }

  /** Why the store is down (empty when it is up). */
  get lastError(): string {
    return this.error;
  }

  /** Key prefix + name. */
  key(...parts: string[]): string {
    return this.options.prefix + parts.join(":");
  }

  /** Calls `listener` on every change of state; returns the function that stops it. */
  onChange(listener: (state: StoreState, error: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async sendCommand(args: string[]): Promise<unknown> {
    if (this.closed) throw new StoreUnavailableError("connection closed");
    if (!this.client) throw new StoreUnavailableError(this.error);
    // Commands of a node that has just started wait for the first connection instead of failing.
    if (this.currentState === "connecting") await this.firstAttempt;
    try {
      return await this.client.sendCommand(args);
    } catch (err) {
      const error = toStoreError(err);
      // "The client is offline" says less than why it is: the last connection error.
      if (error instanceof StoreUnavailableError && this.currentState === "down" && this.error !== "") {
        throw new StoreUnavailableError(this.error);
      }
      throw error;
    }
  }

  /**
   * Listens on a pub/sub channel over this same connection (RESP3 carries messages beside replies);
   * the client subscribes again after a reconnect. Rejects like a command while the store is down.
   */
  async subscribe(channel: string, listener: () => void): Promise<() => Promise<void>> {
    if (this.closed) throw new StoreUnavailableError("connection closed");
    if (this.currentState === "connecting") await this.firstAttempt;
    const client = this.client;
    if (!client) throw new StoreUnavailableError(this.error);
    try {
      await client.subscribe(channel, listener);
    } catch (err) {
      throw toStoreError(err);
    }
    return async () => {
      if (!this.closed) await client.unsubscribe(channel, listener).catch(() => undefined);
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.settleFirstAttempt();
    this.listeners.clear();
    if (!this.client) return;
    try {
      await this.client.close();
    } catch {
      this.client.destroy();
    }
  }

  private describe(err: unknown): string {
    const error = err instanceof Error ? err : new Error(String(err));
    return this.options.explain?.(error) ?? (error.message || error.name);
  }

  private setState(state: StoreState, error: string): void {
    if (this.closed || (state === this.currentState && error === this.error)) return;
    this.currentState = state;
    this.error = error;
    this.settleFirstAttempt();
    for (const listener of this.listeners) listener(state, error);
  }
}

/** Replies of a server that is up but cannot serve yet (loading its file, a busy script, a failover). */
const NOT_SERVING = /^(LOADING|BUSY|MASTERDOWN|TRYAGAIN|READONLY|CLUSTERDOWN)\b/;

/**
 * A reply error from the server (a script's error, a wrong type) is a bug to report as it is;
 * anything about the connection (closed, offline, timed out, refused) means "unreachable".
 */
export function toStoreError(err: unknown): Error {
  if (err instanceof StoreUnavailableError) return err;
  const error = err instanceof Error ? err : new Error(String(err));
  const replyClass = clientPackage?.ErrorReply;
  if (replyClass && error instanceof replyClass && !NOT_SERVING.test(error.message)) return error;
  return new StoreUnavailableError(error.message || error.name);
}

export function isStoreUnavailable(err: unknown): err is StoreUnavailableError {
  return err instanceof StoreUnavailableError;
}
