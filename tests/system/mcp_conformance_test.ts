/**
 * The official MCP conformance suite (`@modelcontextprotocol/conformance`,
 * run by Deno: Node 20 lacks `fs.globSync`) against an MCP client built on
 * `loopauth mcp-proxy` (tests/fixtures/mcp_client.ts): every current-spec
 * auth scenario, the 2025-03-26 back-compatibility ones and the draft ones
 * pass; the extension scenarios fail as tests/fixtures/mcp_conformance_baseline.yml
 * lists, each with its reason. Explicit permission flags for both, never -A.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { tempDir } from "../helpers/env.ts";
import { MCP_CLIENT, mcpClientFlags } from "../helpers/mcp.ts";

const SUITE = "npm:@modelcontextprotocol/conformance@0.1.16";
const BASELINE = fileURLToPath(
  new URL("../fixtures/mcp_conformance_baseline.yml", import.meta.url),
);
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The client command the suite runs (it appends the server's URL). */
function clientCommand(tmp: string): string {
  return [Deno.execPath(), "run", ...mcpClientFlags(tmp), MCP_CLIENT].join(" ");
}

/** Runs one suite of the conformance tool; its exit code and output. */
async function runSuite(suite: string, extra: string[] = []) {
  const tmp = await tempDir("mcp");
  try {
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-prompt",
        "--allow-net=localhost,127.0.0.1,0.0.0.0,[::]",
        "--allow-env",
        `--allow-read=${tmp},${Deno.env.get("DENO_DIR") ?? ""},${ROOT}`,
        `--allow-write=${tmp}`,
        // The suite starts the client through a shell (Node's spawn with shell: true).
        "--allow-run=/bin/sh,sh",
        "--allow-sys",
        // The checkout's lock file: the suite and its packages as `deno task cache` fetched
        // them (a test resolving them anew would need the npm registry).
        `--lock=${ROOT}deno.lock`,
        "--frozen",
        SUITE,
        "client",
        "--suite",
        suite,
        "--command",
        clientCommand(tmp),
        "--timeout",
        "120000",
        "-o",
        tmp,
        ...extra,
      ],
      cwd: tmp,
      env: { TMPDIR: tmp, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
    return { code, text };
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

/** The `=== SUITE SUMMARY ===` lines: scenario → passed. */
function summary(text: string): Map<string, boolean> {
  const results = new Map<string, boolean>();
  for (const match of text.matchAll(/^([✓✗]) (auth\/\S+): \d+ passed, (\d+) failed/gmu)) {
    results.set(match[2], match[1] === "✓" && match[3] === "0");
  }
  return results;
}

for (const [suite, count] of [["auth", 14], ["backcompat", 2], ["draft", 3]] as const) {
  Deno.test(`conformance: every ${suite} scenario passes through mcp-proxy`, async () => {
    const { code, text } = await runSuite(suite);
    const results = summary(text);
    const failed = [...results].filter(([, ok]) => !ok).map(([name]) => name);
    assert.deepEqual(failed, [], text.slice(-4000));
    assert.equal(results.size, count, text.slice(-4000));
    assert.equal(code, 0, text.slice(-4000));
  });
}

Deno.test("conformance: the extension scenarios fail exactly as the baseline lists", async () => {
  const { code, text } = await runSuite("extensions", ["--expected-failures", BASELINE]);
  const results = summary(text);
  assert.deepEqual(
    [...results].filter(([, ok]) => !ok).map(([name]) => name).sort(),
    [
      "auth/client-credentials-basic",
      "auth/client-credentials-jwt",
      "auth/cross-app-access-complete-flow",
    ],
    text.slice(-4000),
  );
  assert.equal(code, 0, text.slice(-4000));
});
