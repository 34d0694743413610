/**
 * Which login routes fit this machine. Where a local browser can surely
 * reach 127.0.0.1 (a display, `$BROWSER`, macOS, Windows, WSL with
 * `wslview`) the browser (loopback) flow runs alone; everywhere else (SSH
 * without a forwarded display, containers, Linux without a display, WSL
 * without `wslview`) every route runs at once and the first to finish wins.
 * @module
 */
import type { Flow } from "../core/types.ts";
import { readEnv } from "../core/env_vars.ts";

/** What {@linkcode chooseFlow} decided. */
export interface FlowChoice {
  /** The flows to run, the one to show first first; two means race them, the first to finish wins. */
  flows: Flow[];
  /** Why, for one line to the user. */
  reason: string;
  /** On an SSH session: the `ssh -L` command that forwards a callback port. */
  forwardCommand?: (port: number) => string;
}

/** What the choice looks at; every probe can be replaced (tests). */
export interface FlowEnvironment {
  /** Environment variables (default: those Deno may read). */
  env?: Record<string, string | undefined>;
  /** Operating system (default: `Deno.build.os`). */
  os?: typeof Deno.build.os;
  /** Whether this runs in a container (default: /.dockerenv, /run/.containerenv, /proc/1/cgroup). */
  isContainer?: () => boolean;
  /** Whether a program can be started (default: try `NAME --version`). */
  hasCommand?: (name: string) => Promise<boolean>;
}

/** Options of {@linkcode chooseFlow}. */
export interface ChooseFlowOptions {
  /** The flow that worked last time for the host. */
  remembered?: Flow;
  /** The host, for the reason. */
  host?: string;
  /** The environment to decide from. */
  environment?: FlowEnvironment;
}

/** The variables the choice reads (the CLI's --allow-env must list them). */
const FLOW_ENV_VARS = [
  "SSH_CONNECTION",
  "SSH_CLIENT",
  "SSH_TTY",
  "DISPLAY",
  "WAYLAND_DISPLAY",
  "BROWSER",
  "WSL_DISTRO_NAME",
  "WSL_INTEROP",
] as const;

/**
 * Decides the routes from the environment. Where it is not certain that a
 * local browser can reach 127.0.0.1, both flows run (the remembered one
 * first, else the device flow): a remembered flow only orders them, it never
 * removes one. On a desktop the browser flow runs alone, or after the device
 * flow when that is what worked last time.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chooseFlow } from "./choose.ts";
 * const choice = await chooseFlow({ environment: { env: { SSH_CONNECTION: "10.0.0.1 50000 10.0.0.2 22" }, os: "linux" } });
 * assert.deepEqual(choice.flows, ["device", "web"]);
 * ```
 */
export async function chooseFlow(options: ChooseFlowOptions = {}): Promise<FlowChoice> {
  const environment = options.environment ?? {};
  const env = environment.env ?? readEnv(FLOW_ENV_VARS);
  const uncertain = await whyUncertain(env, environment);
  if (uncertain) {
    const ssh = uncertain === SSH_REASON;
    return {
      flows: options.remembered === "web" ? ["web", "device"] : ["device", "web"],
      reason: `${uncertain}; every route runs and the first to finish wins`,
      ...(ssh ? { forwardCommand: (port: number) => sshForwardCommand(port, env) } : {}),
    };
  }
  if (options.remembered === "device") {
    // Shown first, but the browser flow (and its URL) still runs.
    return {
      flows: ["device", "web"],
      reason: `the device flow worked last time${
        options.host ? ` for ${options.host}` : ""
      }; the browser flow runs too`,
    };
  }
  if (env.BROWSER) return { flows: ["web"], reason: "$BROWSER is set" };
  if (isWsl(env, environment) && !env.DISPLAY && !env.WAYLAND_DISPLAY) {
    return { flows: ["web"], reason: "wslview opens a Windows browser" };
  }
  return { flows: ["web"], reason: "a browser can open on this machine" };
}

const SSH_REASON = "this is an SSH session without a forwarded display";

/** Why a local browser may not reach 127.0.0.1 here; `undefined` on a desktop. */
async function whyUncertain(
  env: Record<string, string | undefined>,
  environment: FlowEnvironment,
): Promise<string | undefined> {
  const os = environment.os ?? Deno.build.os;
  const display = Boolean(env.DISPLAY || env.WAYLAND_DISPLAY);
  if ((env.SSH_CONNECTION || env.SSH_CLIENT || env.SSH_TTY) && !display) return SSH_REASON;
  if (os !== "linux" || display) return undefined;
  if (isWsl(env, environment)) {
    const hasCommand = environment.hasCommand ?? canRun;
    return env.BROWSER || await hasCommand("wslview")
      ? undefined
      : "this is WSL without wslview to open a Windows browser";
  }
  // A $BROWSER in a container may open a browser elsewhere that cannot reach this 127.0.0.1.
  if ((environment.isContainer ?? isContainer)()) return "this is a container without a display";
  return env.BROWSER
    ? undefined
    : "there is no display (DISPLAY and WAYLAND_DISPLAY are unset) and no $BROWSER";
}

function isWsl(env: Record<string, string | undefined>, environment: FlowEnvironment): boolean {
  return (environment.os ?? Deno.build.os) === "linux" &&
    Boolean(env.WSL_DISTRO_NAME || env.WSL_INTEROP);
}

/**
 * The exact `ssh -L` command that forwards `port` from the machine the user
 * sits at to this one, from `SSH_CONNECTION` (server address and port).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sshForwardCommand } from "./choose.ts";
 * assert.equal(
 *   sshForwardCommand(43123, { SSH_CONNECTION: "10.0.0.1 50000 10.0.0.2 2222" }),
 *   "ssh -L 43123:127.0.0.1:43123 -p 2222 10.0.0.2",
 * );
 * ```
 */
export function sshForwardCommand(
  port: number,
  env: Record<string, string | undefined>,
): string {
  const [, , address, sshPort] = (env.SSH_CONNECTION ?? "").trim().split(/\s+/);
  const server = address && /^[0-9A-Fa-f.:]+$/.test(address) ? address : "THIS_HOST";
  const portFlag = sshPort && sshPort !== "22" && /^\d+$/.test(sshPort) ? ` -p ${sshPort}` : "";
  return `ssh -L ${port}:127.0.0.1:${port}${portFlag} ${server}`;
}

const CONTAINER_FILES = ["/.dockerenv", "/run/.containerenv"];
const CGROUP_FILE = "/proc/1/cgroup";

/** Container markers that Deno may read (no prompt for the others). */
function isContainer(): boolean {
  const readable = (path: string) => {
    try {
      return Deno.permissions.querySync({ name: "read", path }).state === "granted";
    } catch {
      return false;
    }
  };
  for (const path of CONTAINER_FILES) {
    try {
      if (readable(path) && Deno.statSync(path)) return true;
    } catch {
      // Not there.
    }
  }
  try {
    return readable(CGROUP_FILE) &&
      /docker|kubepods|containerd|libpod|lxc/.test(Deno.readTextFileSync(CGROUP_FILE));
  } catch {
    return false;
  }
}

/** Whether `name` starts: spawning is the test, so it is stopped at once. */
async function canRun(name: string): Promise<boolean> {
  try {
    if (Deno.permissions.querySync({ name: "run", command: name }).state !== "granted") {
      return false;
    }
    const child = new Deno.Command(name, {
      args: ["--version"],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      child.kill();
    } catch {
      // Already exited.
    }
    await child.status;
    return true;
  } catch {
    return false;
  }
}
