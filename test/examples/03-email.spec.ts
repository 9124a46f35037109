// Example 3 in a real Node-RED: failed and timed-out results are mailed through a real SMTP server.
import assert from "node:assert/strict";
import { modulePath } from "../support/test-modules";
import { completedPayload, describeExample, failedPayload, timeoutPayload, waitUntil } from "./support";

const FILE = "03 - E-mail the team when an agent loop fails or times out.json";
// smtp-server ships no types; this is the part the test uses.
interface SmtpServer {
  listen(port: number, host: string, cb: () => void): void;
  close(cb: () => void): void;
  server: { address(): { port: number } | string | null };
}
type SmtpServerConstructor = new (options: {
  authOptional: boolean;
  disabledCommands: string[];
  logger: boolean;
  onData(stream: NodeJS.ReadableStream, session: { envelope: Envelope }, callback: (err?: Error) => void): void;
}) => SmtpServer;
interface Envelope {
  mailFrom: { address: string } | false;
  rcptTo: { address: string }[];
}
// mailparser comes with node-red-node-email (its e-mail in node uses it).
type SimpleParser = (source: Buffer) => Promise<{ subject?: string; text?: string; from?: { text: string }; to?: { text: string } | { text: string }[] }>;

interface ReceivedMail {
  envelope: Envelope;
  raw: Buffer;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS module without type declarations, typed by the cast
const { SMTPServer } = require("smtp-server") as { SMTPServer: SmtpServerConstructor };
// eslint-disable-next-line @typescript-eslint/no-require-imports -- resolved at run time from the installed e-mail node (test/support/test-modules.ts)
const { simpleParser } = require(require.resolve("mailparser", { paths: [modulePath("node-red-node-email")] })) as {
  simpleParser: SimpleParser;
};
const mails: ReceivedMail[] = [];
let smtp: SmtpServer | undefined;
let smtpPort = 0;

/** A real SMTP server without TLS or login, like a relay on the local network. */
async function startSmtp(): Promise<void> {
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        mails.push({ envelope: session.envelope, raw: Buffer.concat(chunks) });
        callback();
      });
    },
  });
  smtp = server;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.server.address();
  smtpPort = typeof address === "object" && address ? address.port : 0;
}

describeExample(FILE, {
  secret: "email-example-secret",
  beforeStart: startSmtp,
  env: () => ({
    SMTP_HOST: "127.0.0.1",
    SMTP_PORT: String(smtpPort),
    ALERT_EMAIL_TO: "team@company.example",
    ALERT_EMAIL_FROM: "node-red@company.example",
  }),
  afterStop: () => new Promise<void>((resolve) => (smtp ? smtp.close(resolve) : resolve())),
}, (example) => {
  it("mails the team about a failed and a timed-out result, and not about a completed one", async () => {
    for (const payload of [completedPayload(), failedPayload(), timeoutPayload()]) {
      const reply = await example.post(payload);
      assert.equal(reply.status, 200);
    }
    await waitUntil(() => mails.length >= 2, "2 e-mails", 30_000, () => example.red.log);

    const parsed = await Promise.all(mails.map(async (m) => ({ envelope: m.envelope, mail: await simpleParser(m.raw) })));
    const bySubject = new Map(parsed.map((p) => [p.mail.subject, p]));
    const failed = bySubject.get("Agent loop failed: Daily Sales Report");
    const timedOut = bySubject.get("Agent loop timed out: Daily Sales Report");
    assert.ok(failed, `no mail about the failure; subjects: ${[...bySubject.keys()].join(", ")}`);
    assert.ok(timedOut, `no mail about the timeout; subjects: ${[...bySubject.keys()].join(", ")}`);
    for (const { envelope } of [failed, timedOut]) {
      assert.deepEqual(envelope.rcptTo.map((r) => r.address), ["team@company.example"]);
      assert.equal(envelope.mailFrom && envelope.mailFrom.address, "node-red@company.example");
    }
    assert.equal(
      failed.mail.text?.trim(),
      [
        'The agent loop "Daily Sales Report" failed.',
        "",
        "Error: Tool call failed: HTTP 500 from API",
        "Agent loop id: loop_abc123",
        "Execution id: exec_failed_1",
        "Started: 2024-01-15T10:00:00Z",
        "Ended: 2024-01-15T10:02:30Z",
      ].join("\n"),
    );
    assert.equal(
      timedOut.mail.text?.trim(),
      [
        'The agent loop "Daily Sales Report" timed out.',
        "",
        "Error: Execution timeout after 300 seconds",
        "Agent loop id: loop_abc123",
        "Execution id: exec_timeout_1",
        "Started: 2024-01-15T10:00:00Z",
        "Ended: 2024-01-15T10:02:30Z",
        "",
        "Partial result:",
        "Partial result...",
      ].join("\n"),
    );
    // The completed result produced no mail: only the two above arrived.
    assert.equal(mails.length, 2);
  });
});
