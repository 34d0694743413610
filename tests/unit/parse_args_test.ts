/**
 * The hand-written flag parser against `node:util` `parseArgs`, the
 * reference it replaces: random command lines must give the same values and
 * positionals, or the same kind of refusal.
 */
import assert from "node:assert/strict";
import { parseArgs as nodeParseArgs } from "node:util";
import fc from "npm:fast-check@^4";
import { ArgsError, type Flags, parseArgs } from "../../lib/cli/parse_args.ts";

const FLAGS: Flags = {
  hostname: { type: "string" },
  port: { type: "string", short: "p" },
  field: { type: "string", short: "f", multiple: true },
  quiet: { type: "boolean", short: "q" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
};

const NODE_KINDS: Record<string, ArgsError["kind"][]> = {
  ERR_PARSE_ARGS_UNKNOWN_OPTION: ["unknown"],
  ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL: ["positional"],
  ERR_PARSE_ARGS_INVALID_OPTION_VALUE: ["missing", "value"],
};

type Outcome = { values: Record<string, unknown>; positionals: string[] } | { kinds: string[] };

function ours(argv: string[], positionals: boolean): Outcome {
  try {
    const parsed = parseArgs(argv, FLAGS, { positionals });
    return { values: { ...parsed.values }, positionals: parsed.positionals };
  } catch (error) {
    if (!(error instanceof ArgsError)) throw error;
    return { kinds: [error.kind] };
  }
}

function reference(argv: string[], positionals: boolean): Outcome {
  try {
    const parsed = nodeParseArgs({
      args: argv,
      options: FLAGS,
      strict: true,
      allowPositionals: positionals,
    });
    return { values: { ...parsed.values }, positionals: parsed.positionals };
  } catch (error) {
    const code = (error as { code?: string }).code ?? "";
    assert.ok(code in NODE_KINDS, `node:util threw ${code}: ${error}`);
    return { kinds: NODE_KINDS[code] };
  }
}

function same(argv: string[], positionals: boolean) {
  const got = ours(argv, positionals);
  const want = reference(argv, positionals);
  const context = `argv ${JSON.stringify(argv)}, positionals ${positionals}`;
  if ("kinds" in want) {
    assert.ok("kinds" in got, `${context}: node refuses, ours gave ${JSON.stringify(got)}`);
    assert.ok(want.kinds.includes(got.kinds[0]), `${context}: ${got.kinds} vs ${want.kinds}`);
  } else {
    assert.deepEqual(got, want, context);
  }
}

Deno.test("parse_args: the documented forms, as node:util parses them", () => {
  const lines = [
    ["--hostname", "ghe.example.com", "-q"],
    ["--hostname=ghe.example.com", "--json"],
    ["--hostname="],
    ["-p", "8400"],
    ["-p8400"],
    ["-qh"],
    ["-qp", "1"],
    ["-f", "a=1", "--field", "b=2", "-fc=3"],
    ["--hostname", "a", "--hostname", "b"],
    ["--", "--quiet", "x"],
    ["-"],
    ["x", "-q", "y"],
    // Refusals: unknown, missing value, value given to a switch, a positional.
    ["--hostnme", "x"],
    ["-z"],
    ["-qz"],
    ["--hostname"],
    ["--hostname", "--json"],
    ["--port", "-1"],
    ["--quiet=yes"],
    ["extra"],
  ];
  for (const argv of lines) {
    same(argv, false);
    same(argv, true);
  }
});

Deno.test("parse_args: random command lines agree with node:util parseArgs", () => {
  const token = fc.constantFrom(
    "--hostname",
    "--hostname=h",
    "--hostname=",
    "--port",
    "-p",
    "-p1",
    "-pq",
    "-qp",
    "--field",
    "-f",
    "-fk=v",
    "--quiet",
    "--quiet=1",
    "-q",
    "-qh",
    "-hq",
    "--json",
    "-h",
    "--help",
    "--nope",
    "-z",
    "-qz",
    "--",
    "-",
    "-1",
    "x",
    "k=v",
    "",
  );
  fc.assert(
    fc.property(fc.array(token, { maxLength: 7 }), fc.boolean(), (argv, positionals) => {
      same(argv, positionals);
    }),
    { numRuns: 3000 },
  );
});

Deno.test("parse_args: the CLI's messages for each refusal", async () => {
  const { parseFlags } = await import("../../lib/cli/command.ts");
  const flags: Flags = { hostname: { type: "string" }, quiet: { type: "boolean", short: "q" } };
  const message = (argv: string[]) => {
    try {
      parseFlags(argv, flags, { command: "token" });
    } catch (error) {
      return (error as Error).message;
    }
    return "no error";
  };
  assert.equal(
    message(["--hostnme"]),
    "Unknown flag --hostnme for token (did you mean --hostname?): see loopauth help token",
  );
  assert.equal(
    message(["--hostname"]),
    "Flag --hostname of token needs a value: see loopauth help token",
  );
  assert.equal(message(["-q=1"]), "Unknown flag -= for token: see loopauth help token");
  assert.equal(
    message(["--quiet=1"]),
    "Flag --quiet of token takes no value: see loopauth help token",
  );
  assert.equal(message(["x"]), 'Unexpected argument "x" for token: see loopauth help token');
});
