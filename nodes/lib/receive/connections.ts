// The TCP connections an own server holds, by client address: one address may hold only a share of
// the server's connections (so one host holding idle connections cannot keep every other sender
// out), and a closing server can destroy every one of them, TLS handshakes in progress included.
import type { Socket } from "node:net";

/** The part of the server's connections one client address may hold: a quarter, as for pending bytes. */
export function perAddressShare(maxConnections: number): number {
  return Math.max(1, Math.floor(maxConnections / 4));
}

/** A socket's peer address, IPv4-mapped IPv6 ("::ffff:1.2.3.4") counted as the IPv4 address. */
function peer(socket: Socket): string {
  const address = socket.remoteAddress ?? "";
  return address.startsWith("::ffff:") ? address.slice("::ffff:".length) : address;
}

export class Connections {
  private readonly sockets = new Set<Socket>();
  private readonly byAddress = new Map<string, number>();

  constructor(private readonly share: number) {}

  /** Open connections held. */
  get size(): number {
    return this.sockets.size;
  }

  /** How many connections `address` holds. */
  heldBy(address: string): number {
    return this.byAddress.get(address) ?? 0;
  }

  /** Takes a new connection; one from an address already holding its share is destroyed at once. */
  admit(socket: Socket): boolean {
    const address = peer(socket);
    const held = this.byAddress.get(address) ?? 0;
    if (held >= this.share) {
      socket.destroy();
      return false;
    }
    this.byAddress.set(address, held + 1);
    this.sockets.add(socket);
    socket.once("close", () => {
      this.sockets.delete(socket);
      const left = (this.byAddress.get(address) ?? 1) - 1;
      if (left > 0) this.byAddress.set(address, left);
      else this.byAddress.delete(address);
    });
    return true;
  }

  /** Destroys every connection held, whatever state it is in (handshaking, idle, mid-request). */
  destroyAll(): void {
    for (const socket of this.sockets) socket.destroy();
  }
}
