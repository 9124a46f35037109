// The proof that a Retry-After holds the whole receiver, shared by the file outbox's and the
// callback store's specs: the first attempt is answered 503 with Retry-After: 3, nine more
// callbacks are queued meanwhile, and none of them may reach the receiver before the 3 s are over.
import assert from "node:assert/strict";
import type { Receiver, Received } from "../../support/receiver";

const idOf = (request: Received): string => String(request.json.execution_id);

/** `feed(count, from)` queues callbacks exec_<from> ... through the flow under test. */
export async function assertRetryAfterHoldsReceiver(
  receiver: Receiver,
  feed: (count: number, from: number) => Promise<void>,
): Promise<void> {
  receiver.replies.push({ status: 503, headers: { "Retry-After": "3" }, body: "busy" });
  await feed(1, 0);
  await receiver.waitFor((requests) => requests.length >= 1, 20_000, "the first attempt");
  const heldAt = (receiver.requests[0] as Received).at;
  await feed(9, 1);
  await receiver.waitFor(
    (requests) => new Set(requests.filter((r) => r.answered === 200).map(idOf)).size >= 10,
    30_000,
    "all 10 delivered",
  );
  for (const request of receiver.requests.slice(1)) {
    assert.ok(request.at - heldAt >= 2900, `${idOf(request)} sent ${request.at - heldAt} ms after the Retry-After: 3`);
  }
}
