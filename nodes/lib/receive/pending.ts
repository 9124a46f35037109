// The bytes of request bodies being read at once, per node: a body is admitted only when its
// declared size (or the size limit, when it is sent chunked) fits, so a crowd of slow senders cannot
// make Node-RED buffer more than the cap. One client address gets at most a quarter of it, so
// that slow strangers leave room for the genuine sender.
export class PendingBudget {
  private total = 0;
  private readonly byClient = new Map<string, number>();

  constructor(private readonly capBytes: number) {}

  get pendingBytes(): number {
    return this.total;
  }

  /** How many client addresses it holds an entry for (at most one of them at 0). */
  get clientEntries(): number {
    return this.byClient.size;
  }

  /** Reserves `bytes` for `client`; false when that would pass the cap or the client's share. */
  reserve(client: string, bytes: number): boolean {
    const mine = this.byClient.get(client) ?? 0;
    const share = Math.max(bytes, Math.floor(this.capBytes / 4));
    if (this.total + bytes > this.capBytes || mine + bytes > share) return false;
    this.total += bytes;
    this.byClient.set(client, mine + bytes);
    return true;
  }

  release(client: string, bytes: number): void {
    this.total = Math.max(0, this.total - bytes);
    const left = (this.byClient.get(client) ?? 0) - bytes;
    if (left > 0) this.byClient.set(client, left);
    // The only client's entry stays, at 0: deleting it makes V8 shrink and regrow the Map on every
    // request from a single sender. At most one such entry is kept, so the Map stays bounded.
    else if (this.byClient.size === 1 && this.byClient.has(client)) this.byClient.set(client, 0);
    else this.byClient.delete(client);
  }
}
