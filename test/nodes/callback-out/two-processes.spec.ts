// Two Node-RED processes started on the same user directory: the second's callback out refuses
// the journal the first holds (lock file with the owner's pid), says so in its status and log,
// and sends nothing; the first delivers each callback once.
import assert from "node:assert/strict";
import { NodeRedProcess } from "../../support/node-red";
import { Receiver } from "../../support/receiver";
import { deployFlows, enqueueFlow, probe } from "../../reliability/support/flows";

async function enqueue(baseUrl: string, id: string): Promise<{ status: number; error?: string }> {
  const res = await fetch(`${baseUrl}/__enqueue`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ agent_loop_id: "loop_two", execution_id: id, status: "completed", result: { output: id } }),
  });
  const reply = (await res.json()) as { error?: string };
  return res.status === 200 ? { status: 200 } : { status: res.status, error: String(reply.error) };
}

describe("callback out: two Node-RED processes on one user directory", function () {
  this.timeout(120_000);
  let receiver: Receiver;
  let first: NodeRedProcess | undefined;
  let second: NodeRedProcess | undefined;

  beforeEach(async () => {
    receiver = await new Receiver().start();
  });
  afterEach(async () => {
    await second?.stop();
    await first?.stop();
    first?.cleanup();
    await receiver.stop();
  });

  it("lets only the first open the journal; the second refuses with the owner's pid, and each callback is delivered once", async () => {
    first = new NodeRedProcess();
    await first.start();
    await deployFlows(first.url, enqueueFlow(receiver.url, { concurrency: 2 }), () => first?.log ?? "");
    second = new NodeRedProcess({ userDir: first.userDir });
    await second.start();

    const pid = first.pid;
    await second.waitFor(new RegExp(`is in use by another Node-RED process \\(pid ${pid}\\)`), 20_000);
    assert.equal((await probe(second.url)).status?.text, `outbox in use by pid ${pid}`);
    const refused = await enqueue(second.url, "exec_second");
    assert.equal(refused.status, 503);
    assert.match(refused.error ?? "", new RegExp(`in use by another Node-RED process \\(pid ${pid}\\)`));

    const ids = Array.from({ length: 40 }, (_, i) => `exec_${i}`);
    for (const id of ids) assert.deepEqual(await enqueue(first.url, id), { status: 200 }, id);
    await receiver.count(ids.length);
    // Time for any second delivery to show up.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.deepEqual(
      receiver.requests.map((r) => r.json.execution_id).sort(),
      [...ids].sort(),
      "each delivered once, nothing from the second process",
    );
    assert.doesNotMatch(first.log, /in use by another/);
  });
});
