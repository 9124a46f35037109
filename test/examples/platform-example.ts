// Examples 10 and 11 in a real Node-RED, deployed as a user would after following their comment:
// the signing secret and the API key typed in, the API base pointed at a stand-in of the platform's
// API instead of the real one, and the chat webhook's environment variable at a stand-in receiver.
// Events are signed as the platform signs them, and its own SDK accepts each first.
import type { NodeRedProcess } from "../support/node-red";
import { assertSdkAccepts, platformEvent, PlatformApi, sign, type Platform } from "../support/platform-events";
import { DebugWatcher, Receiver, asDeployment, deploy, loadExample, nodeOfType, startNodeRed, type FlowNode } from "./support";

export interface PlatformExample {
  readonly nodes: FlowNode[];
  readonly callbackIn: FlowNode;
  /** The stand-in Slack or Discord. */
  readonly chat: Receiver;
  readonly api: PlatformApi;
  readonly watcher: DebugWatcher;
  red(): NodeRedProcess;
  /** Posts a signed event of `type` about `id`; resolves to the HTTP status callback in answered. */
  send(type: string, id: string, options?: { secret?: string; webhookId?: string }): Promise<number>;
  /** Presses simulate in the agent callbacks tab (its admin route); resolves to the HTTP status. */
  simulate(status: "completed" | "failed" | "timeout"): Promise<number>;
}

/** Registers the suite's before/after hooks for example `file` of `platform`; `chatEnv` names the webhook URL's variable. */
export function usePlatformExample(
  file: string,
  platform: Platform,
  credentials: { secret: string; apiKey: string },
  chatEnv: { name: string; path: string },
): PlatformExample {
  const nodes = loadExample(file);
  const callbackIn = nodeOfType(nodes, "agent-callback-in");
  const chat = new Receiver();
  const api = new PlatformApi();
  const watcher = new DebugWatcher();
  let red: NodeRedProcess | undefined;

  before(async () => {
    await chat.start();
    await api.start();
    red = await startNodeRed({ env: { [chatEnv.name]: `${chat.url}${chatEnv.path}` } });
    const deployed = asDeployment(nodes, { [callbackIn.id]: credentials }).map((n) =>
      n.id === callbackIn.id ? { ...n, apiBase: `${api.base}/v1` } : n,
    );
    await deploy(red, deployed);
    await watcher.connect(red);
  });
  after(async () => {
    watcher.close();
    await red?.stop();
    red?.cleanup();
    await chat.stop();
    await api.stop();
  });

  return {
    nodes,
    callbackIn,
    chat,
    api,
    watcher,
    red: () => red as NodeRedProcess,
    async send(type, id, options = {}) {
      const secret = options.secret ?? credentials.secret;
      const signed = sign(secret, platformEvent(platform, type, id), options.webhookId ? { webhookId: options.webhookId } : {});
      if (secret === credentials.secret) await assertSdkAccepts(platform, secret, signed);
      const res = await fetch(`${red?.url}${String(callbackIn.url)}`, { method: "POST", headers: signed.headers, body: signed.body });
      return res.status;
    },
    async simulate(status) {
      const res = await fetch(`${red?.url}/agent-callback/in/${callbackIn.id}/simulate`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ status }),
      });
      return res.status;
    },
  };
}
