import assert from "node:assert/strict";
import {
  addLine,
  bodyOf,
  doneLine,
  entryJson,
  readEntryJson,
  readRecord,
  retryLine,
  tryReadRecord,
  withRetry,
} from "../../../nodes/lib/outbox/records";

const entry = { id: "a", executionId: "exec_a", attempts: 1, dueAt: 5, createdAt: 2, url: "http://127.0.0.1:1/x", topic: "t" };

describe("lib/outbox/records", () => {
  it("reads back each record it writes", () => {
    assert.deepEqual(readRecord(addLine(entry, '{"x":"é"}')), { op: "add", entry: { ...entry, body: '{"x":"é"}' } });
    assert.deepEqual(readRecord(retryLine("a", { attempts: 2, dueAt: 9, lastStatus: 503 })), {
      op: "retry",
      id: "a",
      attempts: 2,
      dueAt: 9,
      lastStatus: 503,
      lastError: undefined,
    });
    assert.deepEqual(readRecord(doneLine('a"b')), { op: "done", id: 'a"b' });
  });

  it("keeps bookkeeping fields of the holder out of an add line", () => {
    const line = addLine({ ...entry, offset: 7, length: 3 } as typeof entry, "{}");
    assert.ok(!line.includes("offset"), line);
  });

  it("writes an entry as JSON with the fields of an add line, and reads it back", () => {
    const whole = { ...entry, body: '{"x":1}', lastStatus: 503 };
    assert.deepEqual(readEntryJson(entryJson(whole)), whole);
    assert.deepEqual(JSON.parse(entryJson(whole)), (readRecord(addLine(whole, whole.body)) as { entry: unknown }).entry);
    const line = entryJson({ ...whole, offset: 7, length: 3 } as typeof whole);
    assert.ok(!line.includes("offset"), line);
    for (const text of ["not json", "{}", "null", '{"id":"a","executionId":"e","body":"{}","attempts":"1","dueAt":1,"createdAt":1}']) {
      assert.equal(readEntryJson(text), undefined, text);
    }
  });

  it("gives an entry a retry's state as replaying its retry record does (a copy)", () => {
    const before = { ...entry, body: "{}", lastStatus: 503, lastError: "HTTP 503" };
    const after = withRetry(before, { attempts: 2, dueAt: 9, lastError: "timed out" });
    assert.deepEqual(after, { ...entry, body: "{}", attempts: 2, dueAt: 9, lastError: "timed out" });
    assert.equal(before.attempts, 1, "the entry given is left as it was");
    const record = readRecord(retryLine("a", { attempts: 2, dueAt: 9, lastError: "timed out" }));
    assert.equal(record?.op, "retry");
  });

  it("finds no record in lines that are not one", () => {
    for (const line of ["{}", "[]", '{"op":"add","entry":{"id":"a"}}', '{"op":"retry","id":"a"}', '{"op":"zap","id":"a"}', "null"]) {
      assert.equal(readRecord(line), undefined, line);
    }
    assert.throws(() => readRecord("not json"));
    assert.equal(tryReadRecord("not json"), undefined);
  });

  it("gives a body back only from the entry's own add line", () => {
    assert.equal(bodyOf(addLine(entry, "{1}"), "a", 0), "{1}");
    assert.throws(() => bodyOf(addLine(entry, "{1}"), "b", 40), /record at byte 40 is not callback b's/);
    assert.throws(() => bodyOf(doneLine("a"), "a", 0), /not callback a's/);
    assert.throws(() => bodyOf("torn{", "a", 0), /not callback a's/);
  });
});
