// What the callback store config node says in the log when deployed (real Node-RED runtime): a TLS
// configuration that does not verify the server is warned about as callback out warns, and its
// URL is never logged with the user name or password it holds.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import callbackStore from "../../../nodes/callback-store";
import { nodeRedDir } from "../../support/node-red";
import { helper } from "../../support/test-helper";

// eslint-disable-next-line @typescript-eslint/no-require-imports -- resolved at run time from the Node-RED under test (NODE_RED_PACKAGE)
const tlsConfigNode: unknown = require(require.resolve("@node-red/nodes/core/network/05-tls.js", { paths: [nodeRedDir()] }));

const tlsNode = (verifyservercert: boolean): Record<string, unknown> => ({
  id: "tls1",
  type: "tls-config",
  cert: "",
  key: "",
  ca: "",
  verifyservercert,
});

function logged(level: "WARN" | "ERROR"): string[] {
  const log = helper.log();
  return log.args.filter(([e]) => e.level === log[level] && e.id === "store").map(([e]) => String(e.msg));
}

describe("callback store: what it logs at deploy", () => {
  let userDir: string;

  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(() => {
    userDir = mkdtempSync(path.join(tmpdir(), "store-log-"));
    helper.settings({ userDir });
  });
  afterEach(async () => {
    await helper.unload();
    rmSync(userDir, { recursive: true, force: true });
  });

  async function load(url: string, verifyservercert: boolean): Promise<void> {
    const flow = [{ id: "store", type: "agent-callback-store", url, tls: "tls1" }, tlsNode(verifyservercert)];
    await helper.load([callbackStore, tlsConfigNode], flow, { tls1: {}, store: {} });
  }

  it("warns that a TLS configuration with 'Verify server certificate' off lets anyone in between read and change callbacks", async () => {
    await load("rediss://127.0.0.1:6390", false);
    const warnings = logged("WARN");
    assert.equal(warnings.length, 1, JSON.stringify(helper.log().args));
    assert.match(warnings[0] ?? "", /certificate is not verified .*Verify server certificate.* is off/);
  });

  it("says nothing of the kind when the TLS configuration verifies the server", async () => {
    await load("rediss://127.0.0.1:6390", true);
    assert.deepEqual(logged("WARN"), []);
    assert.deepEqual(logged("ERROR"), []);
  });

  it("never logs the user name or a password holding '@' of a URL it refuses", async () => {
    // A TLS configuration with a redis:// URL is refused, naming the URL.
    await load("redis://alice-user:p@ss-Q9@127.0.0.1:6390/0", true);
    const errors = logged("ERROR");
    assert.equal(errors.length, 1, JSON.stringify(helper.log().args));
    assert.match(errors[0] ?? "", /"redis:\/\/\*\*\*@127\.0\.0\.1:6390\/0" starts with redis:\/\//);
    const text = JSON.stringify(helper.log().args);
    for (const secret of ["alice-user", "p@ss", "ss-Q9"]) assert.ok(!text.includes(secret), `${secret} is not logged: ${text}`);
  });
});
