/**
 * One flag table behind parsing, help and completion (issue 30, item 9;
 * issue 27): every flag help and any completion script offer is accepted by
 * the command's parser and every flag it accepts is offered (but hidden
 * ones), with the same values; and gh's short flags work: `-h HOST` where a command takes `--hostname`
 * (`token -h HOST` prints the token, not help; `--help` stays), `-s LIST`
 * for `--scopes`.
 */
import assert from "node:assert/strict";
import { EXIT_CODES, type LoopauthError } from "../../lib/core/errors.ts";
import type { Command, Flags } from "../../lib/cli/command.ts";
import { helpFlag, parseFlags } from "../../lib/cli/command.ts";
import { actAsUser } from "../../lib/dev/provider.ts";
import { Cli, loginOnce, runCli, storedSecrets, tempConfig, withProvider } from "../helpers.ts";

/** What one shell's completion script offers for a command. */
interface Offered {
  flags: Set<string>;
  shorts: Map<string, string>;
  values: Map<string, string[]>;
}

/** Reads what each command's completion offers out of a shell's script (as the shell would). */
function offeredBy(shell: string, script: string): Map<string, Offered> {
  const commands = new Map<string, Offered>();
  const of = (name: string) => {
    if (!commands.has(name)) {
      commands.set(name, { flags: new Set(), shorts: new Map(), values: new Map() });
    }
    return commands.get(name)!;
  };
  const words = (list: string) => list.split(" ").filter(Boolean);
  if (shell === "bash") {
    for (const [, name, list] of script.matchAll(/^ {4}([a-z-]+)\) words="([^"]*)" ;;$/gm)) {
      for (const flag of words(list)) of(name).flags.add(flag);
    }
    const valued = /^ {4}"([a-z-]+) (--[a-z-]+)"\) COMPREPLY=\(\$\(compgen -W "([^"]*)"/gm;
    for (const [, name, flag, list] of script.matchAll(valued)) {
      of(name).values.set(flag, words(list));
    }
  } else if (shell === "zsh") {
    for (const [, name, list] of script.matchAll(/^ {4}([a-z-]+)\) compadd -- (.*) ;;$/gm)) {
      for (const flag of words(list)) of(name).flags.add(flag);
    }
    const valued = /^ {4}"([a-z-]+) (--[a-z-]+)"\) compadd -- (.*); return ;;$/gm;
    for (const [, name, flag, list] of script.matchAll(valued)) {
      of(name).values.set(flag, words(list));
    }
  } else if (shell === "fish") {
    const line =
      /^complete -c loopauth -n '__fish_seen_subcommand_from ([a-z-]+)' -l ([a-z-]+)(?: -s (\w))?(?: -x -a '([^']*)')?$/gm;
    for (const [, name, long, short, list] of script.matchAll(line)) {
      of(name).flags.add(`--${long}`);
      if (short) of(name).shorts.set(`--${long}`, short);
      if (list) of(name).values.set(`--${long}`, words(list));
    }
  } else {
    for (const [, name, list] of script.matchAll(/^ {4}'([a-z-]+)' = @\((.*)\)$/gm)) {
      for (const [, flag] of list.matchAll(/'([^']*)'/g)) of(name).flags.add(flag);
    }
  }
  return commands;
}

/** The flags a help's flag lists show: `-h, --hostname HOST` as `--hostname` → `h`. */
function listedInHelp(help: string): Map<string, string | undefined> {
  const listed = new Map<string, string | undefined>();
  for (const [, short, long] of help.matchAll(/^ {2}(?:-([a-zA-Z]), )?--([a-z][a-z-]*)/gm)) {
    listed.set(`--${long}`, short);
  }
  return listed;
}

async function load(name: string): Promise<Command> {
  const module = await import(`../../lib/cli/${name.replaceAll("-", "_")}.ts`);
  return module.command;
}

/** Flags the parser takes that neither help nor completion offer, and why. */
const HIDDEN = ["login --waiter"]; // the background half of login --no-wait, started by loopauth

Deno.test("help, every completion script and the parser offer and take the same flags and values", async () => {
  await using config = await tempConfig();
  const scripts = new Map<string, Map<string, Offered>>();
  for (const shell of ["bash", "zsh", "fish", "powershell"]) {
    const out = await runCli(["completion", shell], { configHome: config.home });
    assert.equal(out.code, 0, out.stderr);
    scripts.set(shell, offeredBy(shell, out.stdout));
  }
  const names = [...scripts.get("bash")!.keys()].filter((name) => name !== "help");
  assert.ok(names.length >= 14, `every subcommand has a completion: ${names}`);
  const hidden: string[] = [];
  for (const name of names) {
    const command = await load(name);
    const table = { ...command.flags, help: helpFlag(command.flags ?? {}) } as Flags;
    const help = listedInHelp(command.help);
    // Every flag help lists is parsed, with the same short; every flag parsed is listed.
    for (const [flag, short] of help) {
      const spec = table[flag.slice(2)];
      assert.ok(spec, `${name} ${flag}: help lists it, the parser refuses it`);
      assert.equal(short, spec.short, `${name} ${flag}: help's short alias`);
    }
    for (const [flag, spec] of Object.entries(table)) {
      if (spec.hidden) {
        hidden.push(`${name} --${flag}`);
        assert.ok(!help.has(`--${flag}`), `${name} --${flag} is hidden, help shows it`);
        continue;
      }
      if (flag !== "help") {
        assert.ok(help.has(`--${flag}`), `${name} --${flag}: the parser takes it, help omits it`);
        assert.ok(spec.description, `${name} --${flag} has a description`);
      }
    }
    for (const [shell, commands] of scripts) {
      const offered = commands.get(name);
      assert.ok(offered, `${shell} completes ${name}`);
      // What the shell offers, the parser takes (a string flag with a value of its own).
      for (const word of offered.flags) {
        const flag = word.slice(2);
        const spec = table[flag];
        assert.ok(
          spec,
          `${name} ${word}: ${shell} completion offers it, the parser does not know it`,
        );
        const argv = spec.type === "string" ? [word, spec.values?.[0] ?? "x"] : [word];
        const { values } = parseFlags(argv, command.flags ?? {}, { command: name });
        assert.ok(values[flag] !== undefined, `${name} ${word}`);
      }
      // What the parser takes, the shell offers (hidden ones aside), with its short and values.
      for (const [flag, spec] of Object.entries(table)) {
        if (spec.hidden) {
          assert.ok(!offered.flags.has(`--${flag}`), `${shell} ${name} offers hidden --${flag}`);
          continue;
        }
        assert.ok(
          offered.flags.has(`--${flag}`),
          `${name} --${flag}: ${shell} completion omits it`,
        );
        if (shell === "fish") assert.equal(offered.shorts.get(`--${flag}`), spec.short, flag);
        if (shell !== "powershell") {
          assert.deepEqual(offered.values.get(`--${flag}`), spec.values && [...spec.values], flag);
        }
      }
      for (const flag of offered.values.keys()) assert.ok(offered.flags.has(flag), flag);
    }
    // A flag of a few values takes each of them and nothing else, in one line (exit 2).
    for (const [flag, spec] of Object.entries(table)) {
      for (const value of spec.values ?? []) {
        const { values } = parseFlags([`--${flag}`, value], command.flags ?? {}, { command: name });
        assert.equal(values[flag], value);
      }
      if (spec.values) {
        assert.throws(
          () => parseFlags([`--${flag}=disk`], command.flags ?? {}, { command: name }),
          (error: LoopauthError) => error.code === "usage" && /^Invalid --/.test(error.message),
        );
      }
    }
  }
  assert.deepEqual(hidden, HIDDEN);
});

Deno.test("the words completion offers as a command's first argument are the ones it takes", async () => {
  await using config = await tempConfig();
  const bash = await runCli(["completion", "bash"], { configHome: config.home });
  const offered = new Map(
    [...bash.stdout.matchAll(/^ {6}([a-z-]+)\) COMPREPLY=\(\$\(compgen -W "([^"]*)"/gm)]
      .map(([, name, words]) => [name, words.split(" ")]),
  );
  const nested = ["agent", "completion", "git-credential"];
  assert.deepEqual([...offered.keys()].filter((name) => name !== "help").sort(), nested);
  for (const name of nested) {
    const command = await load(name);
    assert.deepEqual(offered.get(name), command.subcommands, name);
    // A word it does not offer is refused in one line, exit 2.
    const out = await runCli([name, "bogus"], { configHome: config.home });
    assert.equal(out.code, EXIT_CODES.usage, name);
    assert.equal(out.stderr.split("\n").filter(Boolean).length, 1, out.stderr);
  }
  // After help, every command.
  assert.ok(offered.get("help")!.includes("dev-server"));
});

Deno.test("a value a flag does not take is one line naming the ones it does (exit 2)", async () => {
  await using config = await tempConfig();
  const out = await runCli(["doctor", "--storage", "disk"], { configHome: config.home });
  assert.equal(out.code, EXIT_CODES.usage);
  assert.equal(out.stdout, "");
  assert.equal(
    out.stderr,
    'Error: Invalid --storage "disk": use keyring, file, agent or encrypted',
  );
  // The values it names are the ones completion offers after it, in every shell.
  const fish = await runCli(["completion", "fish"], { configHome: config.home });
  assert.match(
    fish.stdout,
    /-n '__fish_seen_subcommand_from doctor' -l storage -x -a 'keyring file agent encrypted'$/m,
  );
});

Deno.test("gh's short flags: -h HOST where a command takes --hostname, -s LIST for --scopes", async () => {
  await withProvider(async (provider, configHome) => {
    assert.equal((await loginOnce(provider, configHome, "--storage", "file")).code, 0);
    const { accessToken } = await storedSecrets(configHome, provider.origin);

    // token -h HOST prints the token (GH_TOKEN=$(loopauth token -h …) gets a token, not help).
    const token = await runCli(["token", "-h", provider.origin], { configHome });
    assert.equal(token.code, 0, token.stderr);
    assert.equal(token.stdout, `${accessToken}\n`);
    const grouped = await runCli(["token", `-h${provider.origin}`], { configHome });
    assert.equal(grouped.stdout, `${accessToken}\n`);

    // --help stays help, exit 0; a bare -h is the flag missing its host, exit 2, one line.
    const help = await runCli(["token", "--help"], { configHome });
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Print the token of a host on stdout\./);
    const bare = await runCli(["token", "-h"], { configHome });
    assert.equal(bare.code, EXIT_CODES.usage);
    assert.equal(bare.stdout, "");
    assert.equal(
      bare.stderr,
      "Error: Flag --hostname of token needs a value (-h is --hostname here, as in gh; --help shows help): see loopauth help token",
    );
    // The hint works as printed.
    const hint = await runCli(["help", "token"], { configHome });
    assert.equal(hint.code, 0);
    assert.match(hint.stdout, /^ {2}-h, --hostname HOST /m);

    // status -h HOST and setup-git's table take it too; a command without --hostname keeps -h = help.
    const status = await runCli(["status", "-h", provider.origin, "--offline"], { configHome });
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, new RegExp(provider.origin.replaceAll(".", "\\.")));
    const agentHelp = await runCli(["agent", "-h"], { configHome });
    assert.equal(agentHelp.code, 0);
    assert.match(agentHelp.stdout, /^Usage: loopauth agent/m);

    // refresh -h HOST -s repo, as a gh user types it: the new login asks for the union of scopes.
    const cli = new Cli(["refresh", "-h", provider.origin, "-s", "repo"], { configHome });
    // (the first login asked for gh's default scopes, repo read:org gist: repo is among them)
    const url = new URL(await cli.authorizationUrl());
    const asked = url.searchParams.get("scope")!.split(" ");
    assert.deepEqual([...asked].sort(), ["gist", "read:org", "repo"]);
    await actAsUser(url.href);
    const refreshed = await cli.output();
    assert.equal(refreshed.code, 0, refreshed.stderr);
    assert.match(refreshed.stdout, new RegExp(`^Refreshed ${provider.origin} as octocat: scopes `));
    assert.match(refreshed.stdout, /\brepo\b/);
  });
});
