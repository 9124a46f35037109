// The sender section's receiver, in a process of its own so that every sender variant (the raw
// undici client and both Node-RED flows alike) is its own process and the sink another, and the
// bench process, which only coordinates, shares a core with neither.
//
// Protocol, one line each: it prints "READY <port>"; "wait <count> <timeoutMs>" on stdin answers
// "REACHED <count> <json stats>" once <count> distinct execution_ids were accepted, or
// "TIMEOUT <count> <message>".
import { FaultReceiver } from "../../test/reliability/support/fault-receiver";

const sink = new FaultReceiver({ validate: false });

function answer(line: string): void {
  const [command, countText = "0", timeoutText = "180000"] = line.trim().split(/\s+/);
  if (command !== "wait") return;
  const count = Number(countText);
  sink.waitForAccepted(count, Number(timeoutText)).then(
    () => process.stdout.write(`REACHED ${count} ${JSON.stringify(sink.stats)}\n`),
    (err: unknown) => process.stdout.write(`TIMEOUT ${count} ${err instanceof Error ? err.message : String(err)}\n`),
  );
}

let buffered = "";
process.stdin.on("data", (chunk: Buffer) => {
  buffered += chunk.toString();
  for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
    answer(buffered.slice(0, nl));
    buffered = buffered.slice(nl + 1);
  }
});
process.stdin.on("end", () => void sink.stop().then(() => process.exit(0)));
process.on("SIGTERM", () => void sink.stop().then(() => process.exit(0)));

void sink.start().then(() => process.stdout.write(`READY ${sink.port}\n`));
