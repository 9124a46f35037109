// The common ways a callback fails, said as the user reads them: what happened and what to check
// first, the system's own error after it. Real sockets on 127.0.0.1, a real HTTPS server.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from "node:net";
import { deliverOnce } from "../../../nodes/lib/send/deliver";
import { createNetworkDispatcher } from "../../../nodes/lib/send/network";
import { failureKind } from "../../../nodes/lib/send/failure-words";
import { describeResult } from "../../../nodes/lib/send/output-msg";
import { sendTest } from "../../../nodes/lib/send/send-test";
import { messagesFor } from "../../../nodes/lib/shared/messages";
import { deliveryMessages as messages } from "../../support/delivery-messages";
import { freePort } from "../../support/node-red";
import { makeTestPki, type TestPki } from "../../support/tls";

const t = messagesFor((key) => key, "agent-callback-out", "callback-out");

async function listening<S extends Server | TcpServer>(server: S): Promise<S> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return server;
}
const portOf = (server: Server | TcpServer) => (server.address() as AddressInfo).port;
const close = (server: Server | TcpServer) => new Promise((resolve) => server.close(resolve));

describe("lib/send/failure-words: why a callback failed, in plain words first", () => {
  const dispatcher = createNetworkDispatcher(2, {}, {}, (key) => key);
  after(() => dispatcher.close());
  const attempt = (url: string, timeoutMs = 5000) => deliverOnce({ url, body: "{}", headers: {}, timeoutMs, dispatcher, messages });

  it("a refused connection: says the receiver could not be reached, where, and to check the URL; the code after", async () => {
    const port = await freePort();
    const result = await attempt(`http://127.0.0.1:${port}/agent-results`);
    assert.equal(result.outcome.kind, "network");
    assert.match(
      result.error ?? "",
      new RegExp(
        `^The receiver could not be reached \\(connection refused at 127\\.0\\.0\\.1:${port}\\)\\. Check the URL, .*\\(.*ECONNREFUSED.*\\)$`,
      ),
    );
  });

  it("a host name that does not exist: says it was not found and to check the host name", async () => {
    const result = await attempt("http://no-such-receiver.invalid/agent-results");
    assert.match(
      result.error ?? "",
      /^The receiver's host name was not found \(no-such-receiver\.invalid:80\)\. Check the host name in the URL\. \(.*(ENOTFOUND|EAI_AGAIN).*\)$/,
    );
  });

  it("no reply in time: says the receiver did not answer within the timeout and what to do", async () => {
    const server = await listening(
      createServer(() => {
        /* never answers */
      }),
    );
    try {
      const result = await attempt(`http://127.0.0.1:${portOf(server)}/`, 300);
      assert.equal(result.outcome.kind, "timeout");
      assert.match(result.error ?? "", /^The receiver did not answer within 0\.3 seconds \(timeout\)\. Check that it is running/);
    } finally {
      server.closeAllConnections();
      await close(server);
    }
  });

  it("a connection closed without a reply: says so, and suggests http:// versus https://", async () => {
    const server = await listening(createTcpServer((socket) => socket.destroy()));
    try {
      const result = await attempt(`http://127.0.0.1:${portOf(server)}/`);
      assert.match(result.error ?? "", /^The receiver closed the connection without replying \(127\.0\.0\.1:\d+\)\. .*https:\/\//);
    } finally {
      await close(server);
    }
  });

  describe("over HTTPS", () => {
    let pki: TestPki;
    before(() => {
      pki = makeTestPki();
    });
    after(() => pki.cleanup());

    it("a certificate not trusted: says so and where to set the CA; the TLS error after", async () => {
      const server = await listening(
        createHttpsServer({ cert: pki.serverCert, key: pki.serverKey }, (_req, res) => {
          res.end("{}");
        }),
      );
      try {
        const result = await attempt(`https://127.0.0.1:${portOf(server)}/`);
        assert.match(
          result.error ?? "",
          /^The receiver's HTTPS certificate is not trusted \(127\.0\.0\.1:\d+\)\. .*TLS configuration.*\(.+\)$/,
        );
      } finally {
        server.closeAllConnections();
        await close(server);
      }
    });
  });

  it("tells the kinds apart by the error code, also when a fetch-style error nests it in its cause", () => {
    const coded = (code: string, cause?: Error) => Object.assign(new Error("fetch failed", cause ? { cause } : {}), { code });
    assert.equal(failureKind(coded("ECONNREFUSED")), "refused");
    assert.equal(failureKind(new Error("fetch failed", { cause: coded("ENOTFOUND") })), "dns");
    assert.equal(failureKind(coded("UND_ERR_SOCKET", coded("DEPTH_ZERO_SELF_SIGNED_CERT"))), "tls");
    assert.equal(failureKind(new Error("something else")), "other");
  });

  describe("replies that refuse the callback (send test and gave-up)", () => {
    let server: Server;
    let status = 200;
    before(async () => {
      server = await listening(
        createServer((_req, res) => {
          res.writeHead(status, { "Content-Type": "application/json" });
          res.end('{"error":"no"}');
        }),
      );
    });
    after(async () => {
      server.closeAllConnections();
      await close(server);
    });

    const cases: Array<[number, RegExp]> = [
      [401, /^The receiver refused the callback as not authorized \(HTTP 401\)\. Check that Secret, Bearer token or Signing key match/],
      [403, /^The receiver refused the callback as not authorized \(HTTP 403\)\./],
      [404, /^The receiver has nothing at this address \(HTTP 404\)\. Check the path in the URL\./],
      [422, /^The receiver refused the callback \(HTTP 422\)\. Its reply says why\./],
      [503, /^The receiver failed while handling the callback \(HTTP 503\)\. Check the receiver/],
    ];
    for (const [code, words] of cases) {
      it(`HTTP ${code}: the send test's reply and the gave-up cause say what it means`, async () => {
        status = code;
        const url = `http://127.0.0.1:${portOf(server)}/agent-results`;
        const reply = await sendTest(
          url,
          (u, body) => deliverOnce({ url: u, body, headers: {}, timeoutMs: 5000, dispatcher, messages }),
          t,
        );
        assert.equal(reply.statusCode, code);
        assert.match(reply.advice ?? "", words);
        assert.match(describeResult(await attempt(url), t), words);
      });
    }

    it("a 2xx reply needs no advice", async () => {
      status = 200;
      const reply = await sendTest(
        `http://127.0.0.1:${portOf(server)}/`,
        (u, body) => deliverOnce({ url: u, body, headers: {}, timeoutMs: 5000, dispatcher, messages }),
        t,
      );
      assert.equal(reply.statusCode, 200);
      assert.equal(reply.advice, undefined);
    });
  });
});
