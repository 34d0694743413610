/**
 * docs/library.md's examples, each run as pasted with exactly the `deno run`
 * flags written above it (only `.example` moves under the test's private root,
 * and the served checkout's port is the test's): the permission lists the
 * page documents are enough, and what each example says it prints it prints.
 */
import assert from "node:assert/strict";
import { childEnv, ROOT, runWithInput, serveCheckout, tempDir } from "../helpers.ts";

interface Example {
  /** The `deno run` line above it. */
  command: string;
  /** The TypeScript. */
  code: string;
}

/** Every ```sh block with a `deno run` line, paired with the ```ts block after it. */
function examples(page: string): { examples: Example[]; tsBlocks: number } {
  const blocks = [...page.matchAll(/```(\w+)\n([^]*?)```/g)].map(([, lang, body]) => ({
    lang,
    body,
  }));
  const found: Example[] = [];
  for (let i = 0; i < blocks.length; i++) {
    const run = blocks[i].lang === "sh" && /^(?:\w+=\S+ )*deno run /m.exec(blocks[i].body);
    if (!run) continue;
    const next = blocks[i + 1];
    assert.equal(next?.lang, "ts", `the ts example after: ${blocks[i].body}`);
    found.push({ command: blocks[i].body.trim(), code: next.body });
  }
  return { examples: found, tsBlocks: blocks.filter((b) => b.lang === "ts").length };
}

/** What the code says it prints: `// X` after a console.log, or alone on the line after one. */
function expectedLines(code: string): string[] {
  const lines = code.split("\n");
  const out: string[] = [];
  lines.forEach((line, i) => {
    const inline = /console\.log\(.*\);\s*\/\/ (.+)$/.exec(line)?.[1];
    const after = /^\/\/ (.+)$/.exec(line.trim())?.[1];
    const said = inline ?? (after && /console\.log\(/.test(lines[i - 1] ?? "") ? after : undefined);
    if (said) out.push(said.split(":")[0].trim());
  });
  return out;
}

Deno.test("docs/library.md: every example runs with exactly the flags written above it", async () => {
  const page = await Deno.readTextFile(`${ROOT}/docs/library.md`);
  const found = examples(page);
  assert.equal(found.examples.length, found.tsBlocks, "every ts example has its deno run line");
  assert.ok(found.examples.length >= 5);
  assert.doesNotMatch(page, /OWNER/, "no placeholder URL");
  await using server = serveCheckout();
  for (const example of found.examples) {
    const dir = await tempDir("doc");
    const place = (text: string) =>
      text.replaceAll(".example", dir)
        .replaceAll("http://127.0.0.1:8000", server.origin)
        .replaceAll("127.0.0.1:8000", `127.0.0.1:${server.addr.port}`);
    const words = place(example.command).split(/\s+/);
    const env: Record<string, string> = {};
    while (/^\w+=/.test(words[0])) {
      const [name, value] = words.shift()!.split("=", 2);
      env[name] = value;
    }
    assert.deepEqual(words.slice(0, 2), ["deno", "run"]);
    const flags = words.slice(2, -1);
    assert.ok(flags.every((flag) => flag.startsWith("--allow-")), example.command);
    const run = await runWithInput(
      Deno.execPath(),
      // --no-lock: the URL example's modules (a port of the moment) stay out of deno.lock.
      ["run", "--no-prompt", "--no-lock", ...flags, "-"],
      place(example.code),
      { cwd: ROOT, env: childEnv(dir, env) },
    );
    assert.equal(run.code, 0, `${example.command}\n${run.stderr}`);
    const printed = run.stdout.split("\n");
    for (const line of expectedLines(example.code)) {
      assert.ok(printed.includes(line), `${example.command}: "${line}" not in\n${run.stdout}`);
    }
    await Deno.remove(dir, { recursive: true });
  }
});
