// A store connection to a test redis-server, ready to use.
import { StoreConnection } from "../../nodes/lib/store/connection";
import { RedisServer } from "./redis-server";

export async function openStore(url: string, prefix: string): Promise<StoreConnection> {
  const connection = new StoreConnection({ url, prefix });
  const started = Date.now();
  while (connection.state !== "ready") {
    if (Date.now() - started > 10_000) throw new Error(`store at ${url} not ready: ${connection.lastError}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return connection;
}

/** A redis-server of the suite's own and two connections to it (two instances of one flow), opened before the suite and closed after it. */
export interface TwoInstances {
  readonly redis: RedisServer;
  readonly a: StoreConnection;
  readonly b: StoreConnection;
}

export function useTwoStoreConnections(prefix: string): TwoInstances {
  const redis = new RedisServer();
  const opened: StoreConnection[] = [];
  before(async () => {
    await redis.start();
    opened.push(await openStore(redis.url, prefix), await openStore(redis.url, prefix));
  });
  after(async () => {
    await Promise.all(opened.map((connection) => connection.close()));
    await redis.stop();
    redis.cleanup();
  });
  return {
    redis,
    get a() {
      return opened[0] as StoreConnection;
    },
    get b() {
      return opened[1] as StoreConnection;
    },
  };
}
