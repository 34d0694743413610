/**
 * Strict flag parsing with the rules of `node:util` `parseArgs`, written by
 * hand because importing any `node:` module starts Deno's Node layer on
 * every command (issue 9: `token` is on git's hot path; docs/performance.md).
 * @module
 */

/**
 * One flag: a string that takes a value, or a boolean switch. A command's
 * table also says what help and completion show (`description`, `value`,
 * `values`), so parsing, help and completion read one fact.
 */
export interface FlagSpec {
  type: "string" | "boolean";
  /** A one-letter alias, e.g. `q` for `-q`. */
  short?: string;
  /** Collect every occurrence into an array. */
  multiple?: boolean;
  /** The only values a string flag takes (the parser refuses others; completion offers them). */
  values?: readonly string[];
  /** The value's name in help, e.g. `HOST` (default: the `values` as `a|b`). */
  value?: string;
  /** What the flag does, one paragraph, for help (wrapped there). */
  description?: string;
  /** Internal: parsed, but neither in help nor offered by completion. */
  hidden?: boolean;
}

/** Flag definitions by long name. */
export type Flags = Record<string, FlagSpec>;

/** The value of one flag as {@linkcode parseArgs} gives it (absent: `undefined`). */
export type FlagValue<S extends FlagSpec> = S["type"] extends "boolean"
  ? (S["multiple"] extends true ? true[] : true)
  : (S["multiple"] extends true ? string[] : string);

/** Flag values by long name, typed from the flag table (as std's `parseArgs` does). */
export type Values<F extends Flags> = { [K in keyof F]?: FlagValue<F[K]> };

/** What {@linkcode parseArgs} returns. */
export interface ParsedArgs<F extends Flags = Flags> {
  /** Flag values by long name: a string, `true`, or an array for `multiple`. */
  values: Values<F>;
  /** Arguments that are not flags (and everything after `--`). */
  positionals: string[];
}

/** Why the arguments were refused, and the flag or argument concerned. */
export class ArgsError extends Error {
  /**
   * `unknown` flag, unexpected `positional`, string flag `missing` its value,
   * boolean given a `value`, a value not among the flag's `choice`s.
   */
  readonly kind: "unknown" | "positional" | "missing" | "value" | "choice";
  /** The argument as typed (`--hostnme`, `-x`, or the positional). */
  readonly arg: string;
  /** The flag's long name, when it is known. */
  readonly flag?: string;

  constructor(kind: ArgsError["kind"], arg: string, flag?: string) {
    super(`${kind} argument ${arg}`);
    this.name = "ArgsError";
    this.kind = kind;
    this.arg = arg;
    this.flag = flag;
  }
}

/**
 * Parses `argv` against `flags`: `--name value`, `--name=value`, `-n value`,
 * `-nvalue`, grouped boolean shorts (`-qh`), `--` ends the flags. A string
 * flag's value may not look like a flag (write `--name=-x` for that), as in
 * Node's strict mode; a repeated flag keeps its last value unless `multiple`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseArgs } from "./parse_args.ts";
 * const { values } = parseArgs(["--hostname=ghe.example.com", "-q"], {
 *   hostname: { type: "string" },
 *   quiet: { type: "boolean", short: "q" },
 * });
 * assert.deepEqual(values, { hostname: "ghe.example.com", quiet: true });
 * ```
 */
export function parseArgs<const F extends Flags>(
  argv: string[],
  flags: F,
  options: { positionals?: boolean } = {},
): ParsedArgs<F> {
  const values: Record<string, string | true | (string | true)[]> = {};
  const positionals: string[] = [];
  const shorts = new Map<string, string>();
  for (const [name, spec] of Object.entries(flags)) if (spec.short) shorts.set(spec.short, name);
  const set = (name: string, value: string | true) => {
    const choices = flags[name].values;
    if (choices && !choices.includes(value as string)) {
      throw new ArgsError("choice", String(value), name);
    }
    if (!flags[name].multiple) values[name] = value;
    else ((values[name] ??= []) as (string | true)[]).push(value);
  };
  // A string flag's value: the rest of the argument, else the next one.
  const valueOf = (arg: string, name: string, inline: string | undefined, i: number) => {
    if (inline !== undefined) return { value: inline, next: i };
    const next = argv[i + 1];
    if (next === undefined || (next.length > 1 && next.startsWith("-"))) {
      throw new ArgsError("missing", arg, name);
    }
    return { value: next, next: i + 1 };
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      const rest = argv.slice(i + 1);
      if (rest.length && !options.positionals) throw new ArgsError("positional", rest[0]);
      positionals.push(...rest);
      break;
    }
    if (arg.startsWith("--")) {
      const equals = arg.indexOf("=");
      const name = arg.slice(2, equals === -1 ? undefined : equals);
      const inline = equals === -1 ? undefined : arg.slice(equals + 1);
      if (!Object.hasOwn(flags, name)) throw new ArgsError("unknown", `--${name}`);
      if (flags[name].type === "boolean") {
        if (inline !== undefined) throw new ArgsError("value", `--${name}`, name);
        set(name, true);
        continue;
      }
      const { value, next } = valueOf(`--${name}`, name, inline, i);
      set(name, value);
      i = next;
      continue;
    }
    if (arg.length > 1 && arg.startsWith("-")) {
      for (let j = 1; j < arg.length; j++) {
        const letter = arg[j];
        const name = shorts.get(letter);
        if (name === undefined) throw new ArgsError("unknown", `-${letter}`);
        if (flags[name].type === "boolean") {
          set(name, true);
          continue;
        }
        const rest = arg.slice(j + 1);
        const { value, next } = valueOf(`-${letter}`, name, rest === "" ? undefined : rest, i);
        set(name, value);
        i = next;
        break;
      }
      continue;
    }
    if (!options.positionals) throw new ArgsError("positional", arg);
    positionals.push(arg);
  }
  return { values: values as Values<F>, positionals };
}
