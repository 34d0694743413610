/**
 * `loopauth token` and `git-credential get` start fast: their module graph
 * (main.ts plus the subcommand, without dynamic imports) has no npm package,
 * no Octokit and no server.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

interface Info {
  modules: {
    specifier: string;
    dependencies?: { code?: { specifier: string }; isDynamic?: boolean }[];
  }[];
}

async function staticGraph(root: string): Promise<string[]> {
  const path = fileURLToPath(new URL(root, import.meta.url));
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", path],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(output.success, new TextDecoder().decode(output.stderr));
  const info: Info = JSON.parse(new TextDecoder().decode(output.stdout));
  const bySpecifier = new Map(info.modules.map((m) => [m.specifier, m]));
  const seen = new Set<string>();
  const visit = (specifier: string) => {
    if (seen.has(specifier)) return;
    seen.add(specifier);
    for (const dep of bySpecifier.get(specifier)?.dependencies ?? []) {
      if (!dep.isDynamic && dep.code) visit(dep.code.specifier);
    }
  };
  visit(new URL(root, import.meta.url).href);
  return [...seen];
}

Deno.test("token and git-credential load no npm package, Octokit or server", async () => {
  const modules = [
    ...await staticGraph("../main.ts"),
    ...await staticGraph("../lib/cli/token.ts"),
    ...await staticGraph("../lib/cli/git_credential.ts"),
  ];
  assert.ok(modules.some((m) => m.endsWith("/lib/token.ts")), "the graph was read");
  for (const module of modules) {
    assert.doesNotMatch(module, /^npm:|octokit|github_api\.ts|callback_server\.ts|dev_provider/);
  }
});
