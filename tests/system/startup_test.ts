/**
 * Start-up stays light: Octokit is reachable only through dynamic imports,
 * so `--version`, `--help` and `token` never load it.
 */
import assert from "node:assert/strict";
import { pathToFileURL } from "node:url";
import { MAIN, ROOT } from "../helpers.ts";

interface Dependency {
  specifier: string;
  code?: { specifier: string };
  isDynamic?: boolean;
  npmPackage?: string;
}
interface Graph {
  modules: { specifier: string; dependencies?: Dependency[]; npmPackage?: string }[];
  redirects: Record<string, string>;
}

const HEAVY = /^npm:\/?@octokit\//;

async function moduleGraph(): Promise<Graph> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", MAIN],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  return JSON.parse(new TextDecoder().decode(stdout));
}

/** Every specifier loaded at start when `root` is: static imports only. */
function staticClosure(graph: Graph, root: string): Set<string> {
  const bySpecifier = new Map(graph.modules.map((m) => [m.specifier, m]));
  const seen = new Set<string>();
  const queue = [root];
  while (queue.length) {
    const specifier = queue.pop()!;
    if (seen.has(specifier)) continue;
    seen.add(specifier);
    for (const dep of bySpecifier.get(specifier)?.dependencies ?? []) {
      if (dep.isDynamic || !dep.code) continue;
      const target = graph.redirects[dep.code.specifier] ?? dep.code.specifier;
      queue.push(target);
    }
  }
  return seen;
}

Deno.test("Octokit is loaded only through dynamic imports (--version, --help, token stay light)", async () => {
  const graph = await moduleGraph();
  const all = graph.modules.map((m) => m.specifier);
  assert.ok(all.some((s) => HEAVY.test(s)), "the graph has Octokit at all");
  const main = pathToFileURL(MAIN).href;
  const token = new URL("lib/cli/token.ts", pathToFileURL(ROOT)).href;
  for (const root of [main, token]) {
    const loaded = [...staticClosure(graph, root)];
    assert.ok(loaded.includes(root), `${root} is in the graph`);
    assert.deepEqual(loaded.filter((s) => HEAVY.test(s)), [], `statically loaded from ${root}`);
  }
  // main.ts itself loads no npm package at all: --version and --help need none.
  assert.deepEqual([...staticClosure(graph, main)].filter((s) => s.startsWith("npm:")), []);
  // Nor the store: only the subcommands that read or write accounts load it.
  assert.deepEqual([...staticClosure(graph, main)].filter((s) => s.includes("/lib/store/")), []);
});

Deno.test("token and git-credential get load no npm package, Octokit or server", async () => {
  const graph = await moduleGraph();
  for (const file of ["lib/cli/token.ts", "lib/cli/git_credential.ts"]) {
    const root = new URL(file, pathToFileURL(ROOT)).href;
    const loaded = [...staticClosure(graph, root)];
    assert.ok(loaded.some((m) => m.includes("/lib/store/")), `the graph of ${file} was read`);
    for (const module of loaded) {
      assert.doesNotMatch(
        module,
        /^npm:|octokit|github_api\.ts|callback_server\.ts|\/lib\/dev\//,
        file,
      );
    }
    // Nor what only a login, a resource login or a logout uses: the waiting line, the device
    // flow's answers, the registrations, forgetting a record.
    assert.deepEqual(
      loaded.filter((m) =>
        /\/(waiting_view|status_line|device_answer|registrations|forget_record)\.ts$/.test(m)
      ),
      [],
      file,
    );
  }
  // A login (`lib/cli/login.ts`) draws the waiting line but loads the others only when used.
  const login = [...staticClosure(graph, new URL("lib/cli/login.ts", pathToFileURL(ROOT)).href)];
  assert.ok(login.some((m) => m.endsWith("/waiting_view.ts")), "the graph of login was read");
  assert.deepEqual(
    login.filter((m) => /\/(device_answer|registrations|forget_record)\.ts$/.test(m)),
    [],
  );
});

// In Deno 2 a `node:` import or the first setTimeout/setInterval starts the
// Node compatibility layer, about 4 ms: the login, `token` and the git
// helper need neither (lib/core/timers.ts, lib/cli/parse_args.ts).
Deno.test("login, token and git-credential start no Node layer: no node: import, no setTimeout", async () => {
  const graph = await moduleGraph();
  // The status line's spinner runs only on a terminal (a pipe gets one line and no timer);
  // pages.ts has setTimeout in the page's script.
  const allowed = /\/lib\/(platform\/status_line|core\/pages)\.ts$/;
  for (
    const file of ["main.ts", "lib/cli/login.ts", "lib/cli/token.ts", "lib/cli/git_credential.ts"]
  ) {
    const root = new URL(file, pathToFileURL(ROOT)).href;
    const loaded = [...staticClosure(graph, root)];
    assert.ok(loaded.length > 3, `the graph of ${file} was read`);
    assert.deepEqual(
      loaded.filter((s) => s.startsWith("node:")),
      [],
      `node: modules under ${file}`,
    );
    for (const module of loaded.filter((s) => s.startsWith("file:") && !allowed.test(s))) {
      const source = await Deno.readTextFile(new URL(module));
      assert.doesNotMatch(source, /\bset(Timeout|Interval)\(/, `${module} (under ${file})`);
    }
  }
});
