/**
 * `deno task compile`: standalone binaries of loopauth in dist/, one per
 * target, with the permission flags of scripts/permissions.ts baked in, and
 * dist/SHA256SUMS (`sha256sum -c` format).
 *
 * Usage: deno task compile [--target TARGET]... [--output FILE]
 *
 * - `--target`: one of TARGETS, or `host` (default: every target).
 * - `--output`: the file for a single target (default: dist/loopauth-TARGET).
 *
 * The binary reaches any host its user names or has stored (GHES, issuers,
 * MCP servers), never the wildcard addresses (scripts/permissions.ts
 * compileFlags); there is no list of hosts to build in.
 *
 * `deno compile` downloads `denort` for each target from Deno's CDN, or
 * takes DENORT_BIN (a denort of the same Deno version) for the host target.
 * When it cannot, this script says so and exits 1: it never fakes a binary.
 * @module
 */
import { parseArgs } from "node:util";
import { basename, dirname, join } from "node:path";
import { VERSION } from "../lib/core/version.ts";
import { compileFlags } from "./permissions.ts";

/** Every target released. */
export const TARGETS: readonly string[] = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
  "x86_64-pc-windows-msvc",
];

const ROOT = new URL("../", import.meta.url);

/** The binary's file name for a target. */
export function binaryName(target: string): string {
  return `loopauth-${target}${target.includes("windows") ? ".exe" : ""}`;
}

/** Fails unless deno.json's "version" equals lib/core/version.ts VERSION. */
export async function checkVersion(): Promise<string> {
  // deno.json may hold comments (JSONC), which JSON.parse rejects.
  const text = await Deno.readTextFile(new URL("deno.json", ROOT));
  const version = /^\s*"version"\s*:\s*"([^"]*)"/m.exec(text)?.[1];
  if (version !== VERSION) {
    throw new Error(
      `deno.json version ${version} differs from lib/core/version.ts VERSION ${VERSION}: make them equal`,
    );
  }
  return VERSION;
}

/**
 * One line for a failed `deno compile`: the known "cannot download denort"
 * case says what to do; otherwise deno's first cause.
 */
export function compileFailure(target: string, stderr: string, denortBin?: string): string {
  const cause = /^\s*0: (.+)$/m.exec(stderr)?.[1]?.trim() ??
    stderr.trim().split("\n").filter((l) => l.trim()).at(-1)?.replace(/^error: /, "") ??
    "no output";
  if (!denortBin && /dl\.deno\.land|error sending request|Setting up base binary/.test(stderr)) {
    return `Cannot download denort for ${target} from Deno's CDN (dl.deno.land): ` +
      `run where it is reachable, or set DENORT_BIN to a denort ${Deno.version.deno} binary ` +
      `(host target only)`;
  }
  if (denortBin) {
    return `deno compile failed for ${target} with DENORT_BIN=${denortBin}: ${cause}: ` +
      `set it to a denort ${Deno.version.deno} binary for ${target}`;
  }
  return `deno compile failed for ${target}: ${cause}`;
}

async function sha256(path: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function compile(target: string, output: string): Promise<void> {
  const args = [
    "compile",
    "--quiet",
    "--target",
    target,
    "--output",
    output,
    // Permission prompts cannot be answered by a script calling the binary.
    "--no-prompt",
    ...compileFlags(),
    fromRoot("main.ts"),
  ];
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    stdout: "inherit",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    const denortBin = Deno.env.get("DENORT_BIN") || undefined;
    throw new Error(compileFailure(target, new TextDecoder().decode(stderr), denortBin));
  }
}

function fromRoot(path: string): string {
  return decodeURIComponent(new URL(path, ROOT).pathname).replace(/^\/([A-Za-z]:)/, "$1");
}

async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      target: { type: "string", multiple: true },
      output: { type: "string" },
    },
    strict: true,
  });
  const targets = (values.target ?? [...TARGETS]).map((t) => t === "host" ? Deno.build.target : t);
  const unknown = targets.filter((t) => !TARGETS.includes(t));
  if (unknown.length) {
    throw new Error(`Unknown target ${unknown.join(", ")}: use one of ${TARGETS.join(", ")}`);
  }
  if (values.output && targets.length !== 1) {
    throw new Error("--output needs exactly one --target");
  }
  const version = await checkVersion();
  const outputs = targets.map((t) => values.output ?? fromRoot(`dist/${binaryName(t)}`));
  const dir = dirname(outputs[0]);
  await Deno.mkdir(dir, { recursive: true });
  const sums: string[] = [];
  for (const [i, target] of targets.entries()) {
    console.error(`Compiling loopauth ${version} for ${target}`);
    await compile(target, outputs[i]);
    // deno compile adds .exe for Windows targets when the name lacks it.
    const file = target.includes("windows") && !outputs[i].endsWith(".exe")
      ? `${outputs[i]}.exe`
      : outputs[i];
    sums.push(`${await sha256(file)}  ${basename(file)}`);
  }
  await Deno.writeTextFile(join(dir, "SHA256SUMS"), `${sums.join("\n")}\n`);
  console.log(sums.join("\n"));
  console.error(`Wrote ${sums.length} binaries and ${join(dir, "SHA256SUMS")}`);
}

if (import.meta.main) {
  try {
    await run(Deno.args);
  } catch (error) {
    console.error(`Error: ${error instanceof Error ? error.message : String(error)}`);
    Deno.exit(1);
  }
}
