// The README and the pages in docs/ as a reader follows them: every relative link and image points at a
// file that exists (and at a heading that exists, when it names one), every docs page is reachable from
// the README, the nodes' help links to pages that exist, and the README stays short enough to read first.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { repoRoot } from "./support/node-red";

const README_LIMIT = 20 * 1024;
const GITHUB_DOCS = "https://github.com/node-red-contrib-agent-callback/node-red-contrib-agent-callback/blob/HEAD/";

const docsDir = path.join(repoRoot, "docs");
const pages = [
  "README.md",
  ...readdirSync(docsDir)
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];
const helpPages = readdirSync(path.join(repoRoot, "nodes", "locales", "en-US"))
  .filter((f) => f.endsWith(".html"))
  .map((f) => `nodes/locales/en-US/${f}`);

function read(file: string): string {
  return readFileSync(path.join(repoRoot, file), "utf8");
}

/** Markdown without fenced code blocks and inline code, where `](` is text, not a link. */
function prose(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, "").replace(/`[^`\n]*`/g, "");
}

/** The targets of `[text](target)` and `![alt](target)` links in a markdown file. */
function markdownLinks(markdown: string): string[] {
  return [...prose(markdown).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]!);
}

/** The anchors GitHub gives a markdown file's headings: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function headingAnchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const m of prose(markdown).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = m[1]!
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** What is wrong with a link from `from` (a repo-relative file) to a repo-relative target, or undefined. */
function brokenLink(from: string, target: string): string | undefined {
  const [file, anchor] = target.split("#", 2) as [string, string | undefined];
  const resolved = file === "" ? from : path.posix.normalize(path.posix.join(path.posix.dirname(from), decodeURI(file)));
  if (resolved.startsWith("..")) return `${from}: ${target} leaves the repository`;
  if (!existsSync(path.join(repoRoot, resolved))) return `${from}: ${target} (no file ${resolved})`;
  if (anchor && resolved.endsWith(".md") && !headingAnchors(read(resolved)).has(anchor)) {
    return `${from}: ${target} (no heading #${anchor} in ${resolved})`;
  }
  return undefined;
}

describe("README.md and docs/: links a reader follows", () => {
  it(`README.md is at most ${README_LIMIT / 1024} KB, so that it can be read in the first hour`, () => {
    const size = statSync(path.join(repoRoot, "README.md")).size;
    assert.ok(size <= README_LIMIT, `README.md is ${size} bytes; move reference material to docs/`);
  });

  it("every relative link and image in README.md and docs/*.md points at a file and heading that exist", () => {
    const broken: string[] = [];
    let checked = 0;
    for (const page of pages) {
      for (const target of markdownLinks(read(page))) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
        checked++;
        const problem = brokenLink(page, target);
        if (problem) broken.push(problem);
      }
    }
    assert.deepEqual(broken, []);
    assert.ok(checked > 20, `only ${checked} relative links found: the link pattern no longer matches`);
  });

  it("every page in docs/ is linked from README.md", () => {
    const linked = new Set(
      markdownLinks(read("README.md"))
        .map((t) => t.split("#")[0]!)
        .filter((t) => t.startsWith("docs/")),
    );
    assert.deepEqual(
      pages.filter((p) => p.startsWith("docs/") && !linked.has(p)),
      [],
    );
  });

  it("each node's help links to docs pages (and headings) that exist", () => {
    const broken: string[] = [];
    for (const help of helpPages) {
      const links = [...read(help).matchAll(/href="([^"]+)"/g)].map((m) => m[1]!).filter((href) => href.startsWith(GITHUB_DOCS));
      if (links.length === 0) broken.push(`${help}: no link to the docs pages`);
      for (const href of links) {
        const problem = brokenLink("README.md", href.slice(GITHUB_DOCS.length));
        if (problem) broken.push(`${help}: ${problem}`);
      }
    }
    assert.deepEqual(broken, []);
  });

  it("the anchor rule follows GitHub's: punctuation dropped, repeats numbered", () => {
    assert.deepEqual(
      [
        ...headingAnchors(
          "# callback in: reference\n## Node-RED's settings, deploys and restarts\n## Replies\n## Replies\n```\n# not a heading\n```",
        ),
      ],
      ["callback-in-reference", "node-reds-settings-deploys-and-restarts", "replies", "replies-1"],
    );
  });
});
