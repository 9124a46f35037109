// A store connection to a test redis-server, ready to use.
import { StoreConnection } from "../../nodes/lib/store/connection";

export async function openStore(url: string, prefix: string): Promise<StoreConnection> {
  const connection = new StoreConnection({ url, prefix });
  const started = Date.now();
  while (connection.state !== "ready") {
    if (Date.now() - started > 10_000) throw new Error(`store at ${url} not ready: ${connection.lastError}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return connection;
}
