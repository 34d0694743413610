/**
 * Type-checks the doc examples of lib/ marked ```` ```ts ignore ````: the ones
 * with side effects (network, files, the environment, child processes) that
 * `deno test --doc` must not run. Deno 2.9.6 knows no mark that skips the run
 * but keeps the check (`no-eval` still runs, `ignore` skips both), so this
 * does the check: each such example is written as a module under
 * .test-tmp/ignored_examples/ (its relative imports made absolute) and given
 * to `deno check`; a type error fails the check.
 *
 * Run by `deno task check`: deno run --allow-read=. --allow-write=.test-tmp
 * --allow-run=DENO scripts/check_ignored_examples.ts
 * @module
 */

const OUT = ".test-tmp/ignored_examples";

/** The ```` ```ts ignore ```` blocks of a module's JSDoc, with the line each starts on. */
export function ignoredExamples(source: string): { line: number; code: string }[] {
  const examples: { line: number; code: string }[] = [];
  const lines = source.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (!/^\s*\*\s*```ts ignore\s*$/.test(lines[i])) continue;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !/^\s*\*\s*```\s*$/.test(lines[j]); j++) {
      body.push(lines[j].replace(/^\s*\* ?/, ""));
    }
    examples.push({ line: i + 1, code: body.join("\n") });
    i = j;
  }
  return examples;
}

async function* modules(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) yield* modules(path);
    else if (entry.name.endsWith(".ts")) yield path;
  }
}

if (import.meta.main) {
  await Deno.remove(OUT, { recursive: true }).catch(() => {});
  await Deno.mkdir(OUT, { recursive: true, mode: 0o700 });
  const root = new URL(`file://${Deno.cwd()}/`);
  const files: string[] = [];
  for await (const path of modules("lib")) {
    const base = new URL(path, root);
    for (const { line, code } of ignoredExamples(await Deno.readTextFile(path))) {
      // Relative specifiers name files beside the module, not beside the copy.
      const absolute = code.replace(
        /(["'])(\.\.?\/[^"']+)\1/g,
        (_, quote, specifier) => `${quote}${new URL(specifier, base).href}${quote}`,
      );
      const file = `${OUT}/${path.replaceAll("/", "_").replace(/\.ts$/, "")}_${line}.ts`;
      await Deno.writeTextFile(file, `// ${path}:${line}\n${absolute}\nexport {};\n`, {
        mode: 0o600,
      });
      files.push(file);
    }
  }
  const check = await new Deno.Command(Deno.execPath(), {
    // --no-config: deno.json excludes .test-tmp/, which would skip every file silently.
    args: ["check", "--quiet", "--no-config", ...files],
  }).spawn().status;
  if (check.success) console.log(`${files.length} doc examples marked ignore type-check`);
  Deno.exit(check.code);
}
