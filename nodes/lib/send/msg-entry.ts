// The outbox entry for one msg: where it goes (the node's URL, else an allowed msg.url), the
// callback body formatted from it, a fresh id; or the msg's error naming what to fix.
import type { OutboxEntry } from "../outbox/types";
import type { Translate } from "../shared/messages";
import type { NodeMessage } from "../shared/node-red-types";
import { randomHex } from "../shared/random-hex";
import { formatCallback } from "./format";
import { urlFromMsg } from "./origins";
import { executionIdProblem } from "./request-headers";
import type { CallbackOutSettings } from "./settings";

/** The entry to queue for `msg`; throws the msg's error (no URL, an invalid payload, an execution_id a header cannot carry). */
export function msgEntry(msg: NodeMessage, config: CallbackOutSettings, t: Translate): OutboxEntry {
  const url = config.url === "" ? urlFromMsg(msg.url, config.origins, t) : undefined;
  let formatted: ReturnType<typeof formatCallback>;
  try {
    formatted = formatCallback(msg, { agentLoopId: config.agentLoopId, agentLoopName: config.agentLoopName });
  } catch (err) {
    // Whatever a msg holds (say a circular payload) is that msg's error.
    throw new Error(t("errors.invalid-payload", { error: errorText(err) }));
  }
  if (!formatted.ok) {
    const hint = formatted.field === "agent_loop_id" ? ` ${t("errors.agent-loop-id-hint")}` : "";
    throw new Error(`${t("errors.invalid-payload", { error: formatted.error })}${hint}`);
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

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
