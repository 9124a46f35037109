// lib/route on a plain Express layout shaped like Node-RED's: a root app whose "/" admin part runs
// JSON/urlencoded body parsers before the node app mounted at httpNodeRoot.
import assert from "node:assert/strict";
import http, { type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import net from "node:net";
import bodyParser from "body-parser";
import express, { type Application, type Request, type Response } from "express";
import supertest from "supertest";
import type { NodeAPI } from "../../../nodes/lib/shared/node-red-types";
import { addRawPostRoute, routeKey } from "../../../nodes/lib/receive/route";
import { readRawBody, type RawBodyResult } from "../../../nodes/lib/receive/body";
import { replyJson } from "../../../nodes/lib/receive/reply";

function nodeRedLike(httpNodeRoot = "/hooks/"): { root: Application; red: NodeAPI; parsedByAdmin: string[] } {
  const root = express();
  const admin = express();
  const parsedByAdmin: string[] = [];
  admin.use(bodyParser.json(), bodyParser.urlencoded({ extended: true }));
  admin.use((req, _res, next) => {
    if (req.method === "POST" && req.body && typeof req.body === "object" && Object.keys(req.body as object).length > 0)
      parsedByAdmin.push(req.path);
    next();
  });
  admin.post("/admin-echo", (req, res) => res.json(req.body));
  root.use("/", admin);
  const httpNode = express();
  root.use(httpNodeRoot, httpNode);
  const red = { settings: { httpNodeRoot }, httpNode } as unknown as NodeAPI;
  return { root, red, parsedByAdmin };
}

const rawEcho =
  (limit = 1024) =>
  async (req: Request, res: Response): Promise<void> => {
    const read = await readRawBody(req, limit);
    if (!read.ok) return replyJson(res, read.reason === "too-large" ? 413 : 500, { error: read.reason }, { Connection: "close" });
    replyJson(res, 200, { raw: read.body.toString("utf8") });
  };
const onError = (_err: unknown, _req: Request, res: Response): void => replyJson(res, 500, { error: "middleware" });

describe("lib/route", () => {
  it("routeKey normalises method, case, double and trailing slashes", () => {
    assert.equal(routeKey("post", "//Hooks//Agent-Results/"), "POST:/hooks/agent-results");
    assert.equal(routeKey("POST", "/"), "POST:/");
  });

  it("gives the handler the exact raw bytes although admin body parsers run first", async () => {
    const { root, red, parsedByAdmin } = nodeRedLike();
    const added = addRawPostRoute(red, { url: "/agent-results", ownerId: "n1", handler: rawEcho(), onError });
    assert.ok(added.ok);
    assert.equal(added.route.fullPath, "/hooks/agent-results");
    const raw = '{ "a" :1,\n "b": "caf\u00e9" }';
    const res = await supertest(root).post("/hooks/agent-results").set("Content-Type", "application/json").send(raw);
    assert.equal(res.status, 200);
    assert.equal(res.body.raw, raw);
    assert.deepEqual(parsedByAdmin, []);
    // Other routes are still parsed by the admin app as before.
    const echo = await supertest(root).post("/admin-echo").set("Content-Type", "application/json").send('{"x":1}');
    assert.deepEqual(echo.body, { x: 1 });
  });

  it("protects routes as Express matches them: :params, letter case, trailing slash", async () => {
    const { root, red } = nodeRedLike();
    assert.ok(addRawPostRoute(red, { url: "/by-loop/:name", ownerId: "n1", handler: rawEcho(), onError }).ok);
    const res = await supertest(root).post("/HOOKS/By-Loop/daily/").set("Content-Type", "application/json").send('{ "k" : 1 }');
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.raw, '{ "k" : 1 }');
  });

  it("stops reading at the limit (declared or streamed)", async () => {
    const { root, red } = nodeRedLike("/");
    assert.ok(addRawPostRoute(red, { url: "/r", ownerId: "n1", handler: rawEcho(10), onError }).ok);
    const res = await supertest(root).post("/r").set("Content-Type", "application/json").send('{"long":"more than ten bytes"}');
    assert.equal(res.status, 413);
  });

  it("reports a client that goes away mid-body as aborted", async () => {
    const server = http.createServer();
    const result = new Promise<RawBodyResult>((resolve) =>
      server.on("request", (req: IncomingMessage) => void readRawBody(req as Request, 1024).then(resolve)),
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const socket = net.connect(port, "127.0.0.1");
      socket.write('POST /r HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"partial":');
      setTimeout(() => socket.destroy(), 50);
      assert.deepEqual(await result, { ok: false, reason: "aborted" });
    } finally {
      server.close();
    }
  });

  it("refuses a second owner of the same path and method, also a core-style route; frees it on remove", () => {
    const { red } = nodeRedLike();
    const first = addRawPostRoute(red, { url: "/dup", ownerId: "n1", handler: rawEcho(), onError });
    assert.ok(first.ok);
    const second = addRawPostRoute(red, { url: "/DUP/", ownerId: "n2", handler: rawEcho(), onError });
    assert.deepEqual(second, { ok: false, reason: "duplicate", fullPath: "/hooks/DUP/" });
    first.route.remove();
    assert.ok(addRawPostRoute(red, { url: "/dup", ownerId: "n2", handler: rawEcho(), onError }).ok);
    red.httpNode.post("/core", (_req, res) => res.end());
    assert.equal(addRawPostRoute(red, { url: "/core", ownerId: "n3", handler: rawEcho(), onError }).ok, false);
  });

  it("remove() takes the route off the stack and the admin parsers back for that path", async () => {
    const { root, red, parsedByAdmin } = nodeRedLike();
    const added = addRawPostRoute(red, { url: "/gone", ownerId: "n1", handler: rawEcho(), onError });
    assert.ok(added.ok);
    added.route.remove();
    added.route.remove(); // idempotent
    const stack = (red.httpNode as unknown as { _router: { stack: Array<{ route?: { path: string } }> } })._router.stack;
    assert.equal(stack.filter((l) => l.route?.path === "/gone").length, 0);
    const res = await supertest(root).post("/hooks/gone").set("Content-Type", "application/json").send('{"x":1}');
    assert.equal(res.status, 404);
    assert.deepEqual(parsedByAdmin, ["/hooks/gone"]);
  });

  it("keeps one marker at the top of the root stack however many routes come and go", () => {
    const { root, red } = nodeRedLike();
    for (let i = 0; i < 5; i++) {
      const added = addRawPostRoute(red, { url: `/r${i}`, ownerId: `n${i}`, handler: rawEcho(), onError });
      assert.ok(added.ok);
      added.route.remove();
    }
    const stack = (root as unknown as { _router: { stack: Array<{ handle: { name?: string } }> } })._router.stack;
    const markers = stack.filter((l) => l.handle.name === "marker");
    assert.equal(markers.length, 1);
    assert.equal(stack[0], markers[0]);
  });

  it("does nothing when httpNodeRoot is false", () => {
    const red = { settings: { httpNodeRoot: false }, httpNode: express() } as unknown as NodeAPI;
    assert.deepEqual(addRawPostRoute(red, { url: "/x", ownerId: "n1", handler: rawEcho(), onError }), { ok: false, reason: "disabled" });
  });

  it("runs httpNodeMiddleware before the handler and hands its errors to onError", async () => {
    const { root, red } = nodeRedLike("/");
    (red.settings as Record<string, unknown>).httpNodeMiddleware = (req: Request, _res: Response, next: (err?: unknown) => void) =>
      next(req.headers["x-fail"] ? new Error("nope") : undefined);
    assert.ok(addRawPostRoute(red, { url: "/m", ownerId: "n1", handler: rawEcho(), onError }).ok);
    const failed = await supertest(root).post("/m").set("X-Fail", "1").set("Content-Type", "application/json").send("{}");
    assert.equal(failed.status, 500);
    assert.deepEqual(failed.body, { error: "middleware" });
    const ok = await supertest(root).post("/m").set("Content-Type", "application/json").send("{}");
    assert.equal(ok.status, 200);
  });
});
