/**
 * The docs as a reader meets them: every command block marked runnable runs
 * (through bash, offline, bounded), the README stays readable (no line over
 * 200 characters outside code), every relative link and anchor resolves,
 * every page in docs/ is linked from the README, and the exit-code table is
 * lib/core/errors.ts's.
 */
import assert from "node:assert/strict";
import { dirname, join, relative } from "node:path";
import { EXIT_CODES } from "../../lib/core/errors.ts";
import { platformEnv, ROOT, tempConfig } from "../helpers.ts";

/** The line that marks the next ```sh (or ```bash) block as runnable. */
const RUNNABLE = "<!-- runnable -->";

/** How long one block may run (a few CLI starts and a login on a loaded machine). */
const BLOCK_MS = 120_000;

interface Doc {
  /** Relative to the checkout, e.g. `docs/storage.md`. */
  path: string;
  lines: string[];
}

interface Block {
  doc: Doc;
  /** 1-based lines of the opening and the closing fence. */
  line: number;
  end: number;
  lang: string;
  text: string;
  runnable: boolean;
}

/** README.md and every docs/*.md. */
async function docs(): Promise<Doc[]> {
  const paths = ["README.md"];
  for await (const entry of Deno.readDir(join(ROOT, "docs"))) {
    if (entry.isFile && entry.name.endsWith(".md")) paths.push(`docs/${entry.name}`);
  }
  paths.sort();
  return await Promise.all(paths.map(async (path) => ({
    path,
    lines: (await Deno.readTextFile(join(ROOT, path))).split("\n"),
  })));
}

// Only fenced blocks, headings and inline links matter here, so a small
// line scanner does (CommonMark fences: ``` or ~~~, closed by the same run).
/** The fenced code blocks of a doc, each with whether the marker line precedes it. */
function blocks(doc: Doc): Block[] {
  const found: Block[] = [];
  let previous = "";
  for (let i = 0; i < doc.lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)/.exec(doc.lines[i]);
    if (!open) {
      if (doc.lines[i].trim() !== "") previous = doc.lines[i].trim();
      continue;
    }
    const fence = open[2];
    const start = i;
    const body: string[] = [];
    for (i++; i < doc.lines.length && !doc.lines[i].trimStart().startsWith(fence); i++) {
      body.push(doc.lines[i]);
    }
    found.push({
      doc,
      line: start + 1,
      end: i + 1,
      lang: open[3],
      text: body.join("\n"),
      runnable: previous === RUNNABLE,
    });
    previous = "";
  }
  return found;
}

/** The lines of a doc outside fenced code blocks, with their 1-based numbers. */
function prose(doc: Doc): { line: number; text: string }[] {
  const inCode = new Set<number>();
  for (const block of blocks(doc)) {
    for (let n = block.line; n <= block.end; n++) inCode.add(n);
  }
  return doc.lines.map((text, i) => ({ line: i + 1, text })).filter(({ line }) =>
    !inCode.has(line)
  );
}

/** GitHub's anchor for a heading: lowercase, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-");
}

/** The anchors a doc's headings give. */
function anchors(doc: Doc): Set<string> {
  return new Set(
    prose(doc).map(({ text }) => /^#{1,6}\s+(.*?)\s*#*$/.exec(text)?.[1])
      .filter((heading): heading is string => heading !== undefined).map(slug),
  );
}

/** Inline links `[text](target)` outside code (blocks and spans), with their lines. */
function links(doc: Doc): { line: number; target: string }[] {
  const found: { line: number; target: string }[] = [];
  for (const { line, text } of prose(doc)) {
    const plain = text.replace(/`[^`]*`/g, "");
    for (const match of plain.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      found.push({ line, target: match[1] });
    }
  }
  return found;
}

/** Deno's cache directory, so that the blocks' `deno` runs offline from the cache. */
async function denoDir(): Promise<string> {
  const fromEnv = Deno.env.get("DENO_DIR");
  if (fromEnv) return fromEnv;
  const { code, stdout } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    stdout: "piped",
    stderr: "null",
  }).output();
  assert.equal(code, 0, "deno info --json");
  return JSON.parse(new TextDecoder().decode(stdout)).denoDir;
}

/** Every process below `pid`, from `ps` (bash's background jobs included). */
async function descendants(pid: number): Promise<number[]> {
  const { stdout } = await new Deno.Command("ps", {
    args: ["-A", "-o", "pid=,ppid="],
    stdout: "piped",
    stderr: "null",
  }).output();
  const children = new Map<number, number[]>();
  for (const line of new TextDecoder().decode(stdout).split("\n")) {
    const [child, parent] = line.trim().split(/\s+/).map(Number);
    if (!child || !parent) continue;
    children.set(parent, [...children.get(parent) ?? [], child]);
  }
  const found: number[] = [];
  const queue = [...children.get(pid) ?? []];
  while (queue.length) {
    const next = queue.pop()!;
    found.push(next);
    queue.push(...children.get(next) ?? []);
  }
  return found;
}

/** How a block is run: pasted into an interactive bash, or saved to a file and run with `bash FILE`. */
interface RunOptions {
  /** Save the block to a file and run `bash FILE`: no job control, no `-e`, no clean-up trap. */
  asScript?: boolean;
  /** A `deno` on PATH whose `dev-server` fails at start (the rest runs the real one). */
  failingDevServer?: boolean;
}

/** A run's exit code (-1 after the timeout), its output, and processes it left running. */
interface RunResult {
  code: number;
  output: string;
  /** Processes still running after the run whose arguments name its temporary HOME (killed). */
  left: string[];
}

/**
 * Runs a block as typed into an interactive bash: job control on (`kill %1`
 * works), stopping at the first failing command, its background jobs killed
 * when it ends; or, with `asScript`, as a user who saved it to a file runs it
 * (`bash FILE`: none of that). HOME and TMPDIR are a new temporary directory;
 * the working directory is the checkout; nothing of the developer's
 * environment leaks in.
 */
async function runBlock(text: string, options: RunOptions = {}): Promise<RunResult> {
  await using home = await tempConfig();
  let args = [
    "-c",
    [
      "set -m -e -o pipefail",
      `trap 'for job in $(jobs -p); do kill -- "-$job" 2>/dev/null; done' EXIT`,
      text,
    ].join("\n"),
  ];
  if (options.asScript) {
    const file = join(home.home, "quickstart.sh");
    await Deno.writeTextFile(file, `${text}\n`, { mode: 0o600 });
    args = [file];
  }
  let path = `${dirname(Deno.execPath())}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`;
  if (options.failingDevServer) {
    const bin = join(home.home, "bin");
    await Deno.mkdir(bin, { mode: 0o700 });
    await Deno.writeTextFile(
      join(bin, "deno"),
      [
        "#!/bin/sh",
        'case " $* " in *" dev-server "*) echo "Error: this dev-server fails at start" >&2; exit 1;; esac',
        `exec '${Deno.execPath()}' "$@"`,
        "",
      ].join("\n"),
      { mode: 0o700 },
    );
    path = `${bin}:${path}`;
  }
  const child = new Deno.Command("bash", {
    args,
    cwd: ROOT,
    clearEnv: true,
    env: {
      ...platformEnv(),
      PATH: path,
      HOME: home.home,
      TMPDIR: home.home,
      DENO_DIR: await denoDir(),
      DENO_NO_UPDATE_CHECK: "1",
      NO_COLOR: "1",
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout = new Response(child.stdout).text();
  const stderr = new Response(child.stderr).text();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<"timeout">((done) => {
    timer = setTimeout(() => done("timeout"), BLOCK_MS);
  });
  const status = await Promise.race([child.status, deadline]);
  clearTimeout(timer);
  if (status === "timeout") {
    await killAll(await descendants(child.pid));
    child.kill("SIGKILL");
    await child.status;
  }
  // What outlived the run (a background job's child is re-parented, so not a descendant).
  const left = await naming(home.home);
  await killAll(left.map(({ pid }) => pid));
  const output = `${await stdout}${await stderr}`;
  const survivors = left.map(({ args }) => args);
  if (status === "timeout") {
    return { code: -1, output: `timed out after ${BLOCK_MS} ms\n${output}`, left: survivors };
  }
  return { code: status.code, output, left: survivors };
}

/** Every process whose arguments contain `text`, from `ps`. */
async function naming(text: string): Promise<{ pid: number; args: string }[]> {
  const { stdout } = await new Deno.Command("ps", {
    args: ["-A", "-o", "pid=,args="],
    stdout: "piped",
    stderr: "null",
  }).output();
  return new TextDecoder().decode(stdout).split("\n").map((line) => /^\s*(\d+)\s+(.*)$/.exec(line))
    .filter((match): match is RegExpExecArray => match !== null && match[2].includes(text))
    .map((match) => ({ pid: Number(match[1]), args: match[2] }));
}

/** SIGKILL for these processes (by id), if any. */
async function killAll(pids: number[]): Promise<void> {
  if (!pids.length) return;
  await new Deno.Command("bash", {
    args: ["-c", 'kill -KILL "$@" 2>/dev/null; true', "kill", ...pids.map(String)],
  }).output();
}

const all = await docs();
const runnable = all.flatMap(blocks).filter((block) => block.runnable);

Deno.test("the docs mark runnable blocks: the README's quick start and the demo", () => {
  const where = runnable.map((block) => `${block.doc.path}: ${block.text}`);
  assert.ok(
    where.some((b) => b.startsWith("README.md:") && b.includes("dev-server")),
    "quick start",
  );
  assert.ok(where.some((b) => /\bdeno task demo\b/.test(b)), "the demo");
  for (const block of runnable) {
    assert.match(block.lang, /^(sh|bash)$/, `${block.doc.path}:${block.line} is a shell block`);
  }
});

for (const block of runnable) {
  Deno.test({
    name: `${block.doc.path}:${block.line}: the runnable block runs and exits 0`,
    // The blocks are POSIX shell with POSIX paths ($HOME/.config, mktemp).
    ignore: Deno.build.os === "windows",
    async fn() {
      const { code, output, left } = await runBlock(block.text);
      assert.equal(code, 0, output);
      assert.deepEqual(left, [], "nothing is left running");
    },
  });
}

/** The README's quick start (the runnable block that starts the dev-server). */
const quickStart = runnable.find((block) =>
  block.doc.path === "README.md" && block.text.includes("dev-server")
)!;

Deno.test({
  name: "README quick start saved as a file: `bash FILE` logs in, exits 0 and stops the dev-server",
  ignore: Deno.build.os === "windows",
  async fn() {
    const { code, output, left } = await runBlock(quickStart.text, { asScript: true });
    assert.equal(code, 0, output);
    assert.match(output, /"login": ?"octocat"/, output);
    assert.deepEqual(left, [], "nothing is left running");
  },
});

Deno.test({
  name:
    "README quick start saved as a file whose dev-server fails: `bash FILE` ends at once with one line",
  ignore: Deno.build.os === "windows",
  async fn() {
    const { code, output, left } = await runBlock(quickStart.text, {
      asScript: true,
      failingDevServer: true,
    });
    assert.equal(code, 1, output);
    assert.match(output, /origin: the dev-server did not start\n/);
    // It stopped there: no login was tried against an empty host.
    assert.doesNotMatch(output, /Invalid host|Logged in/, output);
    assert.deepEqual(left, [], "nothing is left running");
  },
});

Deno.test({
  name: "README quick start pasted into bash whose dev-server fails: it ends, nothing is left",
  ignore: Deno.build.os === "windows",
  async fn() {
    const { code, output, left } = await runBlock(quickStart.text, { failingDevServer: true });
    assert.notEqual(code, 0, output);
    assert.notEqual(code, -1, output);
    assert.match(output, /origin: the dev-server did not start\n/);
    assert.deepEqual(left, [], "nothing is left running");
  },
});

Deno.test("README: no line outside code blocks is over 200 characters", () => {
  const readme = all.find((doc) => doc.path === "README.md")!;
  const long = prose(readme).filter(({ text }) => [...text].length > 200);
  assert.deepEqual(long.map(({ line }) => `README.md:${line}`), []);
});

Deno.test("every relative link in README.md and docs/ names a file (and heading) that exists", async () => {
  const byPath = new Map(all.map((doc) => [doc.path, doc]));
  const broken: string[] = [];
  for (const doc of all) {
    for (const { line, target } of links(doc)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
      const [file, anchor] = target.split("#", 2);
      const path = file === "" ? doc.path : relative(ROOT, join(ROOT, dirname(doc.path), file));
      const exists = await Deno.stat(join(ROOT, path)).then(() => true, () => false);
      if (!exists || path.startsWith("..")) {
        broken.push(`${doc.path}:${line}: ${target} (no ${path})`);
      } else if (anchor !== undefined && path.endsWith(".md")) {
        const target_doc = byPath.get(path);
        if (target_doc && !anchors(target_doc).has(anchor)) {
          broken.push(`${doc.path}:${line}: ${target} (no heading #${anchor} in ${path})`);
        }
      }
    }
  }
  assert.deepEqual(broken, []);
});

Deno.test("no page or message sends a reader to the README for what lives in docs/ (JSON shapes, exit codes, permissions)", async () => {
  // The README links to these pages; it holds none of them.
  const sendsToReadme = /\bsee the README\b/i;
  const sendsToReadmeFor =
    /\bREADME\b[^.]*\b(shape|exit codes?|exit table|Permissions)\b|\b(shape|exit codes?|table)\b[^.]*\b(in|see) the README\b/i;
  const texts: { path: string; lines: string[] }[] = all.filter((doc) =>
    doc.path !== "docs/development.md" // the rules for the docs themselves
  );
  for (const dir of ["lib/cli", "lib/ops"]) {
    for await (const entry of Deno.readDir(join(ROOT, dir))) {
      if (!entry.name.endsWith(".ts")) continue;
      const path = `${dir}/${entry.name}`;
      texts.push({ path, lines: (await Deno.readTextFile(join(ROOT, path))).split("\n") });
    }
  }
  const found = texts.flatMap(({ path, lines }) =>
    lines.flatMap((line, i) =>
      sendsToReadme.test(line) || sendsToReadmeFor.test(line)
        ? [`${path}:${i + 1}: ${line.trim()}`]
        : []
    )
  );
  assert.deepEqual(found, []);
});

Deno.test("every test file a page names exists (a path under tests/, or a file name in its prose)", async () => {
  const testFiles: string[] = [];
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(join(ROOT, dir))) {
      if (entry.isDirectory) await walk(`${dir}/${entry.name}`);
      else testFiles.push(`${dir}/${entry.name}`);
    }
  };
  await walk("tests");
  const missing: string[] = [];
  for (const doc of all) {
    // Code blocks may name a reader's own test file (`login_test.ts: deno test …`).
    for (const { line, text } of prose(doc)) {
      for (const [name] of text.matchAll(/[\w./-]*_test\.(?:ts|mjs|js)\b/g)) {
        const found = name.startsWith("tests/")
          ? testFiles.includes(name)
          : testFiles.some((file) => file.endsWith(`/${name}`));
        if (!found) missing.push(`${doc.path}:${line}: ${name}`);
      }
    }
  }
  assert.deepEqual(missing, []);
});

Deno.test("docs/commands.md: dev-server's synopsis names every flag of its help's usage", async () => {
  const { command } = await import("../../lib/cli/dev_server.ts");
  const usage = /^Usage:[\s\S]*?(?=\n\n)/m.exec(command.help)![0];
  const flags = [...new Set(usage.match(/(?<![\w-])--[a-z][a-z-]*/g))];
  assert.ok(flags.includes("--tls") && flags.includes("--json") && flags.includes("--user"));
  const commands = all.find((doc) => doc.path === "docs/commands.md")!;
  const section = commands.lines.join("\n").split(/^## /m).find((s) =>
    s.startsWith("dev-server\n")
  )!;
  const synopsis = /```\n([\s\S]*?)```/.exec(section)![1];
  assert.deepEqual(flags.filter((flag) => !synopsis.includes(`[${flag}`)), []);
});

Deno.test("every page in docs/ is linked from the README", () => {
  const readme = all.find((doc) => doc.path === "README.md")!;
  const linked = new Set(links(readme).map(({ target }) => target.split("#")[0]));
  const pages = all.map((doc) => doc.path).filter((path) => path.startsWith("docs/"));
  assert.deepEqual(pages.filter((page) => !linked.has(page)), []);
});

Deno.test("docs/exit_codes.md lists exactly the CLI's exit codes", () => {
  const doc = all.find((d) => d.path === "docs/exit_codes.md")!;
  const rows = doc.lines.map((line) => /^\|\s*(\d+)\s*\|/.exec(line)?.[1]).filter(Boolean);
  const codes = [0, 1, ...Object.values(EXIT_CODES)].sort((a, b) => a - b).map(String);
  assert.deepEqual(rows, codes);
});

Deno.test("the link and anchor checks catch what they should", () => {
  assert.equal(
    slug("A crash or `kill -9` during a refresh"),
    "a-crash-or-kill--9-during-a-refresh",
  );
  assert.equal(slug("Who may touch `CONFIG`"), "who-may-touch-config");
  assert.equal(slug("`status --json`"), "status---json");
  const doc: Doc = {
    path: "x.md",
    lines: ["# Title", "[a](b.md#c) `[not](a link)`", "```", "[code](z.md)", "```", "## Two words"],
  };
  assert.deepEqual(links(doc), [{ line: 2, target: "b.md#c" }]);
  assert.deepEqual([...anchors(doc)], ["title", "two-words"]);
  assert.deepEqual(prose(doc).map(({ line }) => line), [1, 2, 6]);
});
