// The outbox entry for one msg: its URL (msg.url when the node has none), the payload built and
// checked, the execution_id checked for the signature; a msg refused for what it holds says which
// msg property and how to fix it, first.
import type { OutboxEntry } from "../outbox/types";
import type { Translate } from "../shared/messages";
import type { NodeMessage } from "../shared/node-red-types";
import { CALLBACK_STATUSES, MAX_ID_LENGTH, type PayloadRefusal } from "../shared/payload";
import { randomHex } from "../shared/random-hex";
import { formatCallback } from "./format";
import { urlFromMsg } from "./origins";
import { executionIdProblem } from "./request-headers";
import type { CallbackOutSettings } from "./settings";

/** A msg refused for what it holds (not for the node's state): `field` (e.g. payload.status) is shown in the status. */
export class ContentError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** "status: expected one of ..." in Node-RED's language (the English of the reply where no key fits). */
function refusalText(refusal: PayloadRefusal, t: Translate): string {
  if (!refusal.problem) return refusal.error;
  const problem = t(`problems.${refusal.problem}`, { max: MAX_ID_LENGTH, statuses: CALLBACK_STATUSES.join(", ") });
  return `${refusal.field}: ${problem}${refusal.more > 0 ? ` (${t("problems.more", { count: refusal.more })})` : ""}`;
}

export function entryOfMsg(msg: NodeMessage, config: CallbackOutSettings, t: Translate): OutboxEntry {
  const url = config.url === "" ? urlFromMsg(msg.url, config.origins, t) : undefined;
  let formatted: ReturnType<typeof formatCallback>;
  try {
    formatted = formatCallback(msg, { agentLoopId: config.agentLoopId, agentLoopName: config.agentLoopName });
  } catch (err) {
    // Whatever a msg holds (say a circular payload) is that msg's error.
    throw new ContentError("payload", t("errors.invalid-payload", { error: err instanceof Error ? err.message : String(err) }));
  }
  if (!formatted.ok) {
    // The field and its fix first: Debug and the Catch node show the first line.
    const fix = formatted.field === "agent_loop_id" ? t("errors.agent-loop-id-hint") : t("errors.field-hint", { field: formatted.field });
    throw new ContentError(`payload.${formatted.field}`, t("errors.refused-field", { error: refusalText(formatted, t), fix }));
  }
  const idProblem = executionIdProblem(config.signature, formatted.payload.execution_id, t);
  if (idProblem) throw new Error(idProblem);
  const now = Date.now();
  const entry: OutboxEntry = {
    id: `${now.toString(36)}-${randomHex(6)}`,
    executionId: formatted.payload.execution_id,
    body: formatted.body,
    attempts: 0,
    dueAt: now,
    createdAt: now,
  };
  if (url !== undefined) entry.url = url;
  if (typeof msg.topic === "string") entry.topic = msg.topic;
  return entry;
}
