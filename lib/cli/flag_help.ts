/**
 * The flag list of a command's help, made from its flag table (the prose
 * around it stays hand-written), so help cannot offer a flag the parser
 * refuses nor leave out one it takes.
 * @module
 */
import type { Flags, FlagSpec } from "./parse_args.ts";

/** Where a flag's description starts, and the width it wraps to. */
const COLUMN = 25;
const WIDTH = 90;

/**
 * How help names a flag: `-h, --hostname HOST`, `--storage keyring|file`,
 * `--json`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { flagUsage } from "./flag_help.ts";
 * assert.equal(flagUsage("hostname", { type: "string", short: "h", value: "HOST" }), "-h, --hostname HOST");
 * assert.equal(flagUsage("storage", { type: "string", values: ["keyring", "file"] }), "--storage keyring|file");
 * ```
 */
export function flagUsage(name: string, spec: FlagSpec): string {
  const short = spec.short ? `-${spec.short}, ` : "";
  const value = spec.type === "boolean"
    ? ""
    : ` ${spec.value ?? spec.values?.join("|") ?? "VALUE"}`;
  return `${short}--${name}${value}`;
}

/**
 * The lines of a help's flag list for `flags` (hidden ones left out): each
 * flag's usage, its description from column 25 wrapped to 90 characters
 * (on the next line when the usage is too long to leave room).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { flagHelp } from "./flag_help.ts";
 * const help = flagHelp({
 *   json: { type: "boolean", description: "print JSON" },
 *   waiter: { type: "boolean", hidden: true },
 * });
 * assert.equal(help, "  --json                 print JSON");
 * ```
 */
export function flagHelp(flags: Flags): string {
  const lines: string[] = [];
  for (const [name, spec] of Object.entries(flags)) {
    if (spec.hidden) continue;
    const usage = `  ${flagUsage(name, spec)}`;
    const words = (spec.description ?? "").split(/\s+/).filter(Boolean);
    let line = usage.length + 2 <= COLUMN
      ? usage.padEnd(COLUMN)
      : usage.length + 2 <= COLUMN + 4
      ? `${usage}  `
      : (lines.push(usage), " ".repeat(COLUMN));
    let empty = true;
    for (const word of words) {
      if (!empty && line.length + 1 + word.length > WIDTH) {
        lines.push(line);
        line = " ".repeat(COLUMN);
        empty = true;
      }
      line += empty ? word : ` ${word}`;
      empty = false;
    }
    if (line.trim()) lines.push(line.trimEnd());
  }
  return lines.join("\n");
}
