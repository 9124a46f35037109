// @ts-check
// The sender section's receiver: HTTP/1.1 over bare node:net in plain JavaScript (no tsx, no HTTP
// library, no JSON parse, no body kept), so that it costs far less CPU a delivery than any sender
// and is never what limits one. It reads each request by its Content-Length, finds the body's
// execution_id by a byte search, counts distinct ids and answers 200 on the kept-alive connection.
// bench/lib/sink.ts starts it in a process of its own, on a core of its own.
//
// Protocol, one line each: it prints "READY <port>"; "wait <count> <timeoutMs>" on stdin answers
// "REACHED <count> <json stats>" once <count> distinct execution_ids were accepted, or
// "TIMEOUT <count> <message>".
"use strict";
const net = require("node:net");

// Every sender posts JSON.stringify output, where the top-level field is written exactly so.
const MARKER = Buffer.from('"execution_id":"');
const QUOTE = 0x22;
const HEAD_END = Buffer.from("\r\n\r\n");
/** @param {number} status @param {string} reason @param {string} body */
const response = (status, reason, body) =>
  Buffer.from(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
const OK = response(200, "OK", '{"received":true}');
const INVALID = response(400, "Bad Request", '{"error":"no execution_id"}');
// Every sender measured sends a Content-Length; anything else would be a change to look at, not to parse.
const NO_LENGTH = response(411, "Length Required", '{"error":"Content-Length required"}');

/** @type {Set<string>} */
const seen = new Set();
const stats = { requests: 0, accepted: 0, duplicates: 0, invalid: 0, lastAcceptedAt: 0 };
/** @type {Array<{ count: number, resolve: () => void }>} */
let waiters = [];

/** @param {Buffer} body @returns {string | undefined} */
function executionId(body) {
  const start = body.indexOf(MARKER);
  if (start < 0) return undefined;
  const from = start + MARKER.length;
  const end = body.indexOf(QUOTE, from);
  return end > from ? body.toString("latin1", from, end) : undefined;
}

/** The answer to one request's body. @param {Buffer} body */
function accept(body) {
  stats.requests++;
  const id = executionId(body);
  if (id === undefined) {
    stats.invalid++;
    return INVALID;
  }
  if (seen.has(id)) stats.duplicates++;
  else {
    seen.add(id);
    stats.accepted++;
    stats.lastAcceptedAt = Date.now();
    if (waiters.length && seen.size >= (waiters[0]?.count ?? Infinity)) notify();
  }
  return OK;
}

/** Reads requests one after the other off a kept-alive connection. @param {net.Socket} socket */
function serve(socket) {
  /** @type {Buffer[]} */
  let chunks = [];
  let size = 0;
  /** Where the current request's body starts and ends in the joined chunks; -1 until its head is read. */
  let bodyStart = 0;
  let end = -1;
  const joined = () => {
    const all = chunks.length === 1 ? /** @type {Buffer} */ (chunks[0]) : Buffer.concat(chunks, size);
    chunks = [all];
    return all;
  };
  socket.on("error", () => socket.destroy());
  socket.on("data", (chunk) => {
    chunks.push(chunk);
    size += chunk.length;
    while (size > 0) {
      if (end < 0) {
        const buffer = joined();
        const headEnd = buffer.indexOf(HEAD_END);
        if (headEnd < 0) return void (size > 65536 && socket.destroy());
        const head = buffer.toString("latin1", 0, headEnd);
        const length = /\r\ncontent-length:[ \t]*(\d+)/i.exec(head);
        if (!length || /\r\ntransfer-encoding:/i.test(head)) return void socket.end(NO_LENGTH);
        bodyStart = headEnd + HEAD_END.length;
        end = bodyStart + Number(length[1]);
      }
      if (size < end) return;
      const buffer = joined();
      socket.write(accept(buffer.subarray(bodyStart, end)));
      const rest = buffer.subarray(end);
      chunks = rest.length ? [rest] : [];
      size = rest.length;
      end = -1;
    }
  });
}

/** @type {Set<net.Socket>} */
const sockets = new Set();
const server = net.createServer((socket) => {
  sockets.add(socket);
  socket.on("close", () => sockets.delete(socket));
  serve(socket);
});

function notify() {
  const due = waiters.filter((w) => seen.size >= w.count);
  waiters = waiters.filter((w) => seen.size < w.count);
  for (const waiter of due) waiter.resolve();
}

/** @param {string} line */
function answer(line) {
  const [command, countText = "0", timeoutText = "180000"] = line.trim().split(/\s+/);
  if (command !== "wait") return;
  const count = Number(countText);
  const reached = () => process.stdout.write(`REACHED ${count} ${JSON.stringify(stats)}\n`);
  if (seen.size >= count) return void reached();
  const timer = setTimeout(() => {
    waiters = waiters.filter((w) => w !== waiter);
    process.stdout.write(`TIMEOUT ${count} sink accepted ${seen.size} of ${count} within ${timeoutText} ms: ${JSON.stringify(stats)}\n`);
  }, Number(timeoutText));
  const waiter = { count, resolve: () => (clearTimeout(timer), reached()) };
  waiters.push(waiter);
  waiters.sort((a, b) => a.count - b.count);
}

let buffered = "";
process.stdin.on("data", (chunk) => {
  buffered += chunk.toString();
  for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
    answer(buffered.slice(0, nl));
    buffered = buffered.slice(nl + 1);
  }
});
const stop = () => {
  for (const socket of sockets) socket.destroy();
  server.close(() => process.exit(0));
};
process.stdin.on("end", stop);
process.on("SIGTERM", stop);

server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  process.stdout.write(`READY ${typeof address === "object" && address ? address.port : 0}\n`);
});
