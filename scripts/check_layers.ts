/**
 * `deno task check` runs this: lib/ has no import cycle (static, dynamic or
 * type-only imports alike) and imports run only downward between the layers
 * below. Reads the module graph from `deno info --json`. The built-in
 * provider (dev) uses only core; nothing but the CLI and ./testing use it.
 *
 * Usage: deno run --allow-run=deno --allow-read=. scripts/check_layers.ts
 * @module
 */

/**
 * The layers, top first: a module may import its own layer's modules and
 * any layer listed after it, never one before it. Siblings that share a rank
 * (flows, providers, store) may not import each other.
 */
export const LAYERS: readonly (readonly string[])[] = [
  ["mod.ts", "testing.ts", "mcp.ts"],
  ["cli"],
  ["ops"],
  ["flows", "providers", "store"],
  ["platform", "dev"],
  ["core"],
];

/** The layer (folder, or root file) of a lib/ path such as `ops/login.ts`. */
export function layerOf(path: string): string {
  return path.includes("/") ? path.slice(0, path.indexOf("/")) : path;
}

/** A module's rank in {@linkcode LAYERS}; `-1` when it is in none. */
export function rankOf(layer: string): number {
  return LAYERS.findIndex((names) => names.includes(layer));
}

/** What is wrong with one import edge `from → to` (lib/ paths), or `undefined`. */
export function edgeProblem(from: string, to: string): string | undefined {
  const a = layerOf(from);
  const b = layerOf(to);
  if (a === b) return undefined;
  const [ra, rb] = [rankOf(a), rankOf(b)];
  if (ra < 0) return `lib/${from} is in no layer (add lib/${a} to scripts/check_layers.ts)`;
  if (rb < 0) return `lib/${to} is in no layer (add lib/${b} to scripts/check_layers.ts)`;
  if (rb < ra) return `lib/${from} imports lib/${to}: an upward import (${a} is below ${b})`;
  if (rb === ra) return `lib/${from} imports lib/${to}: ${a} and ${b} are siblings`;
  return undefined;
}

/** Every cycle of `graph` (one per strongly connected component), as paths. */
export function findCycles(graph: Map<string, Set<string>>): string[][] {
  // Tarjan's algorithm: a component of more than one module, or a self-import, is a cycle.
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (node: string) => {
    indices.set(node, index);
    low.set(node, index++);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!indices.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, indices.get(next)!));
      }
    }
    if (low.get(node) === indices.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || graph.get(node)?.has(node)) cycles.push(component.reverse());
    }
  };
  for (const node of graph.keys()) if (!indices.has(node)) visit(node);
  return cycles;
}

interface DenoInfo {
  modules: {
    specifier: string;
    dependencies?: { code?: { specifier?: string }; type?: { specifier?: string } }[];
  }[];
}

/** lib/'s import graph (lib-relative paths), from `deno info --json` of `entries`. */
export async function libGraph(root: URL, entries: string[]): Promise<Map<string, Set<string>>> {
  // `deno info` takes one root: a data: module that imports every entry.
  const imports = entries.map((path) => `import ${JSON.stringify(new URL(path, root).href)};`).join(
    "",
  );
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", `data:application/typescript;base64,${btoa(imports)}`],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) throw new Error(new TextDecoder().decode(output.stderr));
  const lib = new URL("lib/", root).href;
  const relative = (specifier?: string) =>
    specifier?.startsWith(lib) ? specifier.slice(lib.length) : undefined;
  const graph = new Map<string, Set<string>>();
  for (const module of (JSON.parse(new TextDecoder().decode(output.stdout)) as DenoInfo).modules) {
    const from = relative(module.specifier);
    if (!from) continue;
    const edges = graph.get(from) ?? new Set<string>();
    graph.set(from, edges);
    for (const dependency of module.dependencies ?? []) {
      for (const to of [dependency.code?.specifier, dependency.type?.specifier].map(relative)) {
        if (to) edges.add(to);
      }
    }
  }
  return graph;
}

if (import.meta.main) {
  const root = new URL("../", import.meta.url);
  const entries: string[] = [];
  for await (const entry of walk(new URL("lib/", root))) entries.push(entry);
  const graph = await libGraph(root, entries);
  const problems: string[] = [];
  for (const [from, edges] of graph) {
    for (const to of edges) {
      const problem = edgeProblem(from, to);
      if (problem) problems.push(problem);
    }
  }
  for (const cycle of findCycles(graph)) problems.push(`import cycle: ${cycle.join(" → ")}`);
  if (problems.length) {
    for (const problem of problems.sort()) console.error(problem);
    console.error(`check_layers: ${problems.length} problem(s) in lib/'s imports`);
    Deno.exit(1);
  }
  console.error(`check_layers: ${graph.size} modules in lib/, no cycle, imports only downward`);
}

async function* walk(dir: URL): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
    if (entry.isDirectory) yield* walk(url);
    else if (entry.name.endsWith(".ts")) yield url.pathname;
  }
}
