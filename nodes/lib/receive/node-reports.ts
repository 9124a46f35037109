// What callback in says in the log and the status about its secrets and about results it could not read back.
import type { Translate } from "../shared/messages";
import type { ReceiverStatus } from "./node-status";
import type { ReceivedMessage } from "./receiver";
import type { ReceiveSettings } from "./settings";

export interface NodeLog {
  warn(text: string): void;
  error(text: string): void;
}

/** A node that cannot check what it receives says so; one that checks nothing is warned about. */
export function reportSecrets(t: Translate, node: NodeLog, settings: ReceiveSettings, invalidKeys: number, status: ReceiverStatus): void {
  if (invalidKeys > 0) {
    node.error(t("errors.bad-whsec", { count: invalidKeys }));
    status.problem("red", t("status.bad-whsec"));
  } else if (settings.verify !== "none" && settings.secrets.length === 0) {
    node.error(t("errors.no-secret"));
    status.problem("red", t("status.no-secret"));
  } else if (settings.verify === "none") {
    node.warn(t("warn.verify-none", { path: settings.url }));
  }
}

/** One log line for each result that could not be read back (the msg carries the same in msg.fetchError). */
export function reportFetch(t: Translate, node: NodeLog, received: ReceivedMessage): void {
  if (received.fetchError === undefined) return;
  node.warn(t("warn.fetch-failed", { type: received.topic, id: received.payload.execution_id, detail: received.fetchError }));
}
