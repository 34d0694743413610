/** `loopauth doctor`. @module */
import { EXIT_CODES } from "../core/errors.ts";
import { doctor, type DoctorCheck } from "../ops/doctor.ts";
import { parseStorage } from "../store/secret_store.ts";
import { STORAGE_NAMES } from "../store/secrets.ts";
import {
  type Command,
  flagHelp,
  flagOrEnv,
  type Flags,
  hostFlags,
  hostnameFlag,
  issuerFlag,
  parseFlags,
} from "./command.ts";

const MARKS: Record<DoctorCheck["status"], string> = { ok: "✓", warn: "!", fail: "✗", fact: "·" };

/** The flags of `doctor` (parsing, help and completion agree on them: tests/cli/flags_test.ts). */
const FLAGS = {
  ...hostFlags("an OAuth 2.0 / OpenID Connect issuer"),
  storage: {
    type: "string",
    values: STORAGE_NAMES,
    description: "the storage a login would use (or LOOPAUTH_STORAGE)",
  },
  json: {
    type: "boolean",
    description: 'print the checks as JSON: {"host", "issuer", "ok", "checks"}',
  },
} as const satisfies Flags;

/**
 * The `doctor` subcommand: checks what a login to a host needs.
 *
 * @example
 * ```ts ignore
 * import { command } from "./doctor.ts";
 * await command.run(["--hostname", "github.com"], { signal: new AbortController().signal });
 * ```
 */
export const command: Command = {
  name: "doctor",
  flags: FLAGS,
  help: `Check what a login to a host or issuer needs, one line per check: ✓ fine, ! works but
worth fixing, ✗ blocks a login, each with what to do; · a fact doctor cannot check (GitHub's
fixed endpoints). It checks that the host answers,
its endpoints or metadata (PKCE S256, device flow, revocation, the iss parameter), the
OS keyring, the config directory (owner, modes), the proxy and CA settings in effect,
Deno's permissions against what a login needs, and the clock against the server's.
It sends no token and changes nothing.

Usage: loopauth doctor [--hostname HOST | --issuer URL] [--storage keyring|file|agent|encrypted]
                       [--json]

Flags:
${flagHelp(FLAGS)}

Exits 0 when a login can work; else with the code of the first ✗: 7 the host does not
answer (network, proxy, certificate), 5 unusable metadata, 8 the config directory or a
forced keyring, 11 no GitHub API at the host (HTTP 404), 12 a missing Deno permission.

Examples:
  loopauth doctor
  loopauth doctor --issuer https://id.example.com --json`,
  async run(argv, { signal }) {
    const { values } = parseFlags(argv, FLAGS, { command: "doctor" });
    const report = await doctor({
      hostname: hostnameFlag(values),
      issuer: issuerFlag(values),
      storage: parseStorage(flagOrEnv(values, "storage", "LOOPAUTH_STORAGE")),
      signal,
    });
    const failed = report.checks.find((c) => c.status === "fail");
    const code = failed?.code ? EXIT_CODES[failed.code] : failed ? 1 : 0;
    if (values.json) {
      console.log(JSON.stringify({ ...report, exitCode: code }, null, 2));
      return code;
    }
    for (const check of report.checks) {
      const fix = (check.status === "warn" || check.status === "fail") && check.fix
        ? `: ${check.fix}`
        : "";
      console.log(`${MARKS[check.status]} ${check.message}${fix}`);
    }
    if (report.ok) console.log(`A login to ${report.host} can work`);
    else console.error(`Error: A login to ${report.host} cannot work yet: fix the ✗ lines above`);
    return code;
  },
};
