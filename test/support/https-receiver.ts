// An HTTPS receiver on 127.0.0.1 with a server certificate of the test CA; with `clientCert` it
// requires a client certificate of that CA (mutual TLS). Records the client certificate's CN.
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import type { TestPki } from "./tls";

export interface HttpsReceiver {
  url: string;
  /** CN of the client certificate of each request (undefined without one). */
  seen: Array<string | undefined>;
  server: Server;
}

export async function startHttpsReceiver(certs: TestPki, clientCert: boolean): Promise<HttpsReceiver> {
  const seen: Array<string | undefined> = [];
  const server = createServer(
    { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca, requestCert: clientCert, rejectUnauthorized: clientCert },
    (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      const cn = peer && "subject" in peer ? peer.subject?.CN : undefined;
      seen.push(cn === undefined ? undefined : String(cn));
      req.resume();
      req.on("end", () => res.writeHead(200, { "Content-Type": "application/json" }).end('{"tls":true}'));
    },
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `https://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, seen, server };
}
