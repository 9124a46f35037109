// The editor's "send test" button: one attempt with the seed's sample payload, nothing queued, and
// what the receiver answered for the notification.
import { samplePayload } from "../shared/payload";
import { randomHex } from "../shared/random-hex";
import type { DeliveryResult } from "./deliver";
import { replyAdvice } from "./failure-words";
import type { MessageText } from "./request-headers";

export interface TestReply {
  url: string;
  statusCode?: number;
  payload?: unknown;
  error?: string;
  /** A reply that is not 2xx, in words: what it means and what to check. */
  advice?: string;
}

/** Sends the sample (with a fresh `exec_test_` id) through `attempt` and says what came back. */
export async function sendTest(
  url: string,
  attempt: (url: string, body: string, executionId: string) => Promise<DeliveryResult>,
  t: MessageText,
): Promise<TestReply> {
  const payload = { ...samplePayload(), execution_id: `exec_test_${randomHex(6)}` };
  const result = await attempt(url, JSON.stringify(payload), payload.execution_id);
  const reply: TestReply = { url };
  if (result.statusCode !== undefined) reply.statusCode = result.statusCode;
  const advice = result.statusCode === undefined ? undefined : replyAdvice(result.statusCode, t);
  if (advice !== undefined) reply.advice = advice;
  if (result.payload !== undefined) reply.payload = result.payload;
  if (result.error !== undefined) reply.error = result.error;
  return reply;
}
