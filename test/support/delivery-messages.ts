// deliverOnce's causes in English, from callback out's catalog, for tests and the bench that call
// deliver without a node.
import { deliveryMessages as fromCatalog, type DeliveryMessages } from "../../nodes/lib/send/failure-words";
import { messagesFor } from "../../nodes/lib/shared/messages";

// A translate that knows no key: messagesFor then reads the package's English catalog.
const t = messagesFor((key) => key, "agent-callback-out", "callback-out");

export const deliveryMessages: DeliveryMessages = fromCatalog(t);
