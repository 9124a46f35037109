// The msgs callback in sends: an accepted callback's, and a replayed or simulated payload's.
import type { NodeMessage } from "../shared/node-red-types";
import { CALLBACK_STATUSES, type CallbackPayload } from "../shared/payload";
import type { ReceivedMessage } from "./receiver";
import { OTHER_OUTPUT, callbackTopic } from "./sources/source";

/** The msg for an accepted callback, built field by field (on Node.js 20 a spread into a literal costs microseconds). */
export function messageOf(msgid: string, received: ReceivedMessage): NodeMessage {
  const msg: NodeMessage = { _msgid: msgid, payload: received.payload, topic: received.topic };
  if (received.event !== undefined) msg.event = received.event;
  if (received.fetchError !== undefined) msg.fetchError = received.fetchError;
  if (received.req !== undefined) msg.req = received.req;
  if (received.res !== undefined) msg.res = received.res;
  return msg;
}

/** A replayed or simulated payload (already a copy): its output and its msg. */
export function replayedMessage(
  msgid: string,
  copy: CallbackPayload,
  extra: { replayed?: true; simulated?: true },
): { output: number; msg: NodeMessage } {
  // A platform's event of a type the table does not route has no status: its output is the fourth.
  const output = CALLBACK_STATUSES.indexOf(copy.status);
  return { output: output < 0 ? OTHER_OUTPUT : output, msg: { _msgid: msgid, payload: copy, topic: callbackTopic(copy), ...extra } };
}

/** The array node.send takes: `msg` on output `output` of `count`, null on the others. */
export function onOutput(count: number, output: number, msg: NodeMessage): Array<NodeMessage | null> {
  const outputs: Array<NodeMessage | null> = new Array<NodeMessage | null>(count).fill(null);
  outputs[output] = msg;
  return outputs;
}
