/**
 * One flag table behind parsing, help and completion (issue 30, item 9):
 * every flag help and completion offer is accepted by the command's parser,
 * and gh's short flags work: `-h HOST` where a command takes `--hostname`
 * (`token -h HOST` prints the token, not help; `--help` stays), `-s LIST`
 * for `--scopes`.
 */
import assert from "node:assert/strict";
import { EXIT_CODES } from "../../lib/core/errors.ts";
import type { Command } from "../../lib/cli/command.ts";
import { parseFlags } from "../../lib/cli/command.ts";
import { actAsUser } from "../../lib/dev/provider.ts";
import { Cli, loginOnce, runCli, storedSecrets, tempConfig, withProvider } from "../helpers.ts";

/** Every subcommand the bash completion offers, with the words it offers after it. */
async function completionWords(): Promise<Map<string, string[]>> {
  await using config = await tempConfig();
  const out = await runCli(["completion", "bash"], { configHome: config.home });
  assert.equal(out.code, 0, out.stderr);
  const words = new Map<string, string[]>();
  for (const [, name, list] of out.stdout.matchAll(/^ {4}([a-z-]+)\) words="([^"]*)" ;;$/gm)) {
    words.set(name, list.split(" ").filter(Boolean));
  }
  return words;
}

async function load(name: string): Promise<Command> {
  const module = await import(`../../lib/cli/${name.replaceAll("-", "_")}.ts`);
  return module.command;
}

Deno.test("every flag help and completion offer is accepted by the command's parser", async () => {
  const offered = await completionWords();
  assert.ok(offered.size >= 13, `every subcommand has a completion: ${[...offered.keys()]}`);
  for (const [name, words] of offered) {
    if (name === "help") continue;
    const command = await load(name);
    assert.ok(words.includes("--help"), name);
    for (const word of words) {
      const flag = word.slice(2);
      const spec = command.flags?.[flag] ?? (flag === "help" ? { type: "boolean" } : undefined);
      assert.ok(spec, `${name} ${word}: completion offers it, the parser does not know it`);
      // The parser takes it as the table says (a string flag with a value).
      const argv = spec.type === "string" ? [word, "x"] : [word];
      const { values } = parseFlags(argv, command.flags ?? {}, { command: name });
      assert.ok(values[flag] !== undefined, `${name} ${word}`);
    }
    // Every flag the help's flag list shows is in the table, and every short as `-x, --name`.
    const listed = command.help.match(/^ {2,}(?:-[a-zA-Z], )?--[a-z][a-z-]*/gm) ?? [];
    for (const line of listed) {
      const flag = line.replace(/^.*--/, "");
      assert.ok(
        flag in (command.flags ?? {}),
        `${name} --${flag}: help lists it, the parser refuses it`,
      );
    }
    for (const [flag, spec] of Object.entries(command.flags ?? {})) {
      if (spec.short) assert.match(command.help, new RegExp(`-${spec.short}, --${flag}\\b`), name);
      // Every flag of the table is offered, but login's internal --waiter.
      if (!(name === "login" && flag === "waiter")) {
        assert.ok(
          words.includes(`--${flag}`),
          `${name} --${flag}: the parser takes it, help does not say it`,
        );
      }
    }
  }
  // The same words reach every shell: zsh offers what bash offers.
  await using config = await tempConfig();
  const zsh = await runCli(["completion", "zsh"], { configHome: config.home });
  assert.match(zsh.stdout, /^ {4}token\) compadd -- --hostname --issuer --user .*--help ;;$/m);
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

    // refresh -s repo -h HOST: the new login asks for the union of scopes.
    const cli = new Cli(
      ["refresh", "-h", provider.origin, "-s", "repo", "--no-browser", "--web"],
      { configHome },
    );
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
