// Each language as a real Node-RED serves it to the editor (catalogs and help), and the runtime's
// own texts (a node status, an error a Catch node gets) in the language of settings.js `lang`.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { NodeRedProcess, repoRoot } from "../support/node-red";
import { request } from "../support/request";
import { LANGUAGES } from "../support/languages";

const MODULE = "node-red-contrib-agent-callback";
type Catalog = Record<string, Record<string, unknown>>;

function catalogFile(lang: string, file: string): Catalog {
  const dir = file === "deliveries.json" ? path.join(repoRoot, "nodes", "plugins", "locales") : path.join(repoRoot, "nodes", "locales");
  return JSON.parse(readFileSync(path.join(dir, lang, file), "utf8")) as Catalog;
}

function helpPage(lang: string, node: string): string {
  return readFileSync(path.join(repoRoot, "nodes", "locales", lang, `${node}.html`), "utf8");
}

async function getJson(url: string): Promise<Record<string, unknown>> {
  const reply = await request(url, { headers: { Accept: "application/json" } });
  assert.equal(reply.status, 200, `${url}: ${reply.text}`);
  return JSON.parse(reply.text) as Record<string, unknown>;
}

describe("translations served by a real Node-RED", function () {
  this.timeout(120_000);
  let red: NodeRedProcess;

  before(async () => {
    red = new NodeRedProcess();
    await red.start();
  });
  after(async () => {
    await red.stop();
    red.cleanup();
  });

  for (const lang of LANGUAGES) {
    it(`${lang}: /nodes/messages and /plugins/messages give that language's catalogs, not en-US`, async () => {
      const nodes = await getJson(`${red.url}/nodes/messages?lng=${lang}`);
      for (const [node, file] of [
        ["agent-callback-in", "callback-in.json"],
        ["agent-callback-out", "callback-out.json"],
        ["agent-callback-store", "callback-store.json"],
      ] as const) {
        const served = nodes[`${MODULE}/${node}`];
        assert.deepEqual(served, catalogFile(lang, file), `${lang} ${node}`);
        assert.notDeepEqual(served, catalogFile("en-US", file), `${lang} ${node} is English`);
      }
      const plugins = await getJson(`${red.url}/plugins/messages?lng=${lang}`);
      const served = plugins[`${MODULE}/agent-callback-deliveries`];
      assert.deepEqual(served, catalogFile(lang, "deliveries.json"), `${lang} deliveries`);
      assert.notDeepEqual(served, catalogFile("en-US", "deliveries.json"), `${lang} deliveries is English`);
    });

    it(`${lang}: GET /nodes (text/html) with Accept-Language serves that language's help pages`, async () => {
      const reply = await request(`${red.url}/nodes`, { headers: { Accept: "text/html", "Accept-Language": lang } });
      assert.equal(reply.status, 200);
      for (const node of ["callback-in", "callback-out", "callback-store"]) {
        // The first paragraph of each page: the language's own, and not the English one.
        const first = (page: string): string => /<p>([\s\S]*?)<\/p>/.exec(page)?.[1]?.trim() ?? "<none>";
        assert.ok(reply.text.includes(first(helpPage(lang, node))), `${lang} ${node} help not served`);
        assert.ok(!reply.text.includes(first(helpPage("en-US", node))), `${lang} ${node} help is English`);
      }
    });
  }
});

describe("runtime texts in the language of settings.js lang (de)", function () {
  this.timeout(120_000);
  let red: NodeRedProcess;
  const flows = [
    { id: "n-tab", type: "tab", label: "t" },
    { id: "n-in", type: "agent-callback-in", z: "n-tab", url: "/hook-de", verify: "none", wires: [[], [], []] },
    { id: "n-out", type: "agent-callback-out", z: "n-tab", url: "", wires: [[], []] },
    { id: "n-go", type: "http in", z: "n-tab", url: "/go", method: "post", wires: [["n-reply", "n-out"]] },
    { id: "n-reply", type: "http response", z: "n-tab", statusCode: "200", wires: [] },
    { id: "n-st", type: "status", z: "n-tab", scope: ["n-in"], wires: [["n-keepStatus"]] },
    { id: "n-keepStatus", type: "function", z: "n-tab", func: "global.set('status', msg.status.text); return null;", wires: [] },
    { id: "n-catch", type: "catch", z: "n-tab", scope: ["n-out"], uncaught: false, wires: [["n-keepError"]] },
    { id: "n-keepError", type: "function", z: "n-tab", func: "global.set('caught', msg.error.message); return null;", wires: [] },
    { id: "n-out2", type: "agent-callback-out", z: "n-tab", url: "http://127.0.0.1:9/never", wires: [[], []] },
    { id: "n-go2", type: "http in", z: "n-tab", url: "/go-bad", method: "post", wires: [["n-reply", "n-out2"]] },
    { id: "n-catch2", type: "catch", z: "n-tab", scope: ["n-out2"], uncaught: false, wires: [["n-keepError2"]] },
    { id: "n-keepError2", type: "function", z: "n-tab", func: "global.set('refused', msg.error.message); return null;", wires: [] },
    { id: "n-probe", type: "http in", z: "n-tab", url: "/probe", method: "get", wires: [["n-read"]] },
    {
      id: "n-read",
      type: "function",
      z: "n-tab",
      func: "msg.payload = { status: global.get('status') || '', caught: global.get('caught') || '', refused: global.get('refused') || '' }; return msg;",
      wires: [["n-probeReply"]],
    },
    { id: "n-probeReply", type: "http response", z: "n-tab", statusCode: "200", wires: [] },
  ];

  before(async () => {
    red = new NodeRedProcess({ flows, settings: { lang: "de" } });
    await red.start();
  });
  after(async () => {
    await red.stop();
    red.cleanup();
  });

  type Probe = { status: string; caught: string; refused: string };
  async function probe(until: (p: Probe) => boolean): Promise<Probe> {
    for (let i = 0; i < 200; i++) {
      const seen = JSON.parse((await request(`${red.url}/probe`)).text) as Probe;
      if (until(seen)) return seen;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return JSON.parse((await request(`${red.url}/probe`)).text) as Probe;
  }

  it("shows callback in's status in German", async () => {
    const body = { agent_loop_id: "loop_de", execution_id: "exec_de_1", status: "completed" };
    const reply = await request(`${red.url}/hook-de`, { headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    assert.equal(reply.status, 200, reply.text);
    const de = catalogFile("de", "callback-in.json")["agent-callback-in"] as { status: Record<string, string> };
    const expected = de.status.accepted?.replace("__count__", "1") ?? "<none>";
    const seen = await probe((p) => p.status.includes(expected));
    assert.ok(seen.status.includes(expected), `status: ${seen.status}, want ${expected}`);
  });

  it("gives a Catch node callback out's error in German", async () => {
    await request(`${red.url}/go`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ status: "completed" }),
    });
    const de = catalogFile("de", "callback-out.json")["agent-callback-out"] as { errors: Record<string, string> };
    const seen = await probe((p) => p.caught !== "");
    assert.ok(de.errors["no-url"] && seen.caught.includes(de.errors["no-url"]), `caught: ${seen.caught}`);
  });

  it("says in German what is wrong with a msg's payload (the sender's reply stays English)", async () => {
    await request(`${red.url}/go-bad`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ status: "done" }),
    });
    const de = catalogFile("de", "callback-out.json")["agent-callback-out"] as { problems: Record<string, string> };
    const expected = `status: ${de.problems.status?.replace("__statuses__", "completed, failed, timeout")}`;
    const seen = await probe((p) => p.refused !== "");
    assert.ok(seen.refused.includes(expected), `refused: ${seen.refused}, want ${expected}`);
    assert.ok(!seen.refused.includes("expected one of"), seen.refused);
  });
});
