// A Lua script run on the store: by its SHA1 (the text travels once per server), sent again when
// the server does not know it (first use, or a restart emptied its script cache).
import { createHash } from "node:crypto";
import type { StoreClient } from "./connection";

export class StoreScript {
  private readonly sha: string;

  constructor(private readonly source: string) {
    this.sha = createHash("sha1").update(source).digest("hex");
  }

  async run(client: StoreClient, keys: string[], args: Array<string | number>): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...args.map(String)];
    try {
      return await client.sendCommand(["EVALSHA", this.sha, ...tail]);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith("NOSCRIPT")) throw err;
      return client.sendCommand(["EVAL", this.source, ...tail]);
    }
  }
}
