/**
 * The Deno permission flags for a child `deno run` of loopauth itself (the
 * two-step login's waiter): never more than this process has. Deno cannot
 * list a process's grants, so each one the child may need is asked for by
 * name and passed on only when granted.
 * @module
 */

/** What the child may need, by kind; each passed on only when this process has it. */
export interface ChildPermissionWants {
  /** Hosts (`host`, `host:port`) and Unix sockets (`unix:PATH`). */
  net?: readonly string[];
  /** Paths to read. */
  read?: readonly string[];
  /** Paths to write. */
  write?: readonly string[];
  /** Environment variables. */
  env?: readonly string[];
  /** Programs to run. */
  run?: readonly string[];
}

/**
 * The `--allow-*` flags that grant a child what `wants` names and this
 * process has: a kind this process has in full is passed on in full.
 *
 * @example
 * ```ts
 * import { inheritedFlags } from "./child_permissions.ts";
 * const flags = inheritedFlags({ net: ["127.0.0.1", "github.com"], env: ["HOME"] });
 * // e.g. ["--allow-net=127.0.0.1,github.com", "--allow-env=HOME", "--allow-sys=uid"]
 * ```
 */
export function inheritedFlags(wants: ChildPermissionWants): string[] {
  const granted = (descriptor: Deno.PermissionDescriptor) => {
    try {
      return Deno.permissions.querySync(descriptor).state === "granted";
    } catch {
      return false;
    }
  };
  const flags: string[] = [];
  const kind = (
    name: "net" | "read" | "write" | "env" | "run",
    values: readonly string[] | undefined,
    descriptor: (value: string) => Deno.PermissionDescriptor,
  ) => {
    if (granted({ name } as Deno.PermissionDescriptor)) {
      flags.push(`--allow-${name}`);
      return;
    }
    const kept = [...new Set(values ?? [])].filter((value) => granted(descriptor(value)));
    if (kept.length) flags.push(`--allow-${name}=${kept.join(",")}`);
  };
  kind("net", wants.net, (host) => ({ name: "net", host }));
  kind("read", wants.read, (path) => ({ name: "read", path }));
  kind("write", wants.write, (path) => ({ name: "write", path }));
  kind("env", wants.env, (variable) => ({ name: "env", variable }));
  kind("run", wants.run, (command) => ({ name: "run", command }));
  if (granted({ name: "sys", kind: "uid" })) flags.push("--allow-sys=uid");
  return flags;
}
