// An own server's connections by client address: a quarter of the limit per address, freed as
// connections close, and all of them destroyed at once on close.
import assert from "node:assert/strict";
import net from "node:net";
import { Connections, perAddressShare } from "../../../nodes/lib/receive/connections";

describe("own server connections per client address", () => {
  let server: net.Server;
  let port: number;
  let connections: Connections;
  const clients: net.Socket[] = [];

  beforeEach(async () => {
    connections = new Connections(2);
    server = net.createServer((socket) => connections.admit(socket));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as net.AddressInfo).port;
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) client.destroy();
    connections.destroyAll();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  /** Connects from `localAddress`; resolves once the server has taken or dropped the connection. */
  async function connect(localAddress: string): Promise<net.Socket> {
    const client = net.connect({ host: "127.0.0.1", port, localAddress });
    client.on("error", () => undefined);
    clients.push(client);
    await new Promise((resolve) => client.once("connect", resolve));
    await new Promise((resolve) => setTimeout(resolve, 50));
    return client;
  }

  const closed = (socket: net.Socket): Promise<void> =>
    new Promise((resolve) => (socket.closed ? resolve() : socket.once("close", () => resolve())));

  it("is a quarter of the server's limit", () => {
    assert.equal(perAddressShare(1000), 250);
    assert.equal(perAddressShare(2), 1);
  });

  it("drops a connection past the address's share, takes one from another address, and frees the share on close", async () => {
    const a1 = await connect("127.0.0.1");
    await connect("127.0.0.1");
    const a3 = await connect("127.0.0.1");
    await closed(a3);
    assert.equal(connections.heldBy("127.0.0.1"), 2);
    const b1 = await connect("127.0.0.2");
    assert.equal(connections.heldBy("127.0.0.2"), 1);
    assert.equal(b1.closed, false);
    a1.destroy();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(connections.heldBy("127.0.0.1"), 1);
    const a4 = await connect("127.0.0.1");
    assert.equal(a4.closed, false);
    assert.equal(connections.heldBy("127.0.0.1"), 2);
  });

  it("destroys every connection it holds", async () => {
    const held = [await connect("127.0.0.1"), await connect("127.0.0.2")];
    connections.destroyAll();
    await Promise.all(held.map(closed));
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(connections.size, 0);
  });
});
