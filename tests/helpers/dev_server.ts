/**
 * Helpers for tests that run `loopauth dev-server` as a CLI author's CI
 * would: with the documented flags and `--json`, reading its first line.
 * @module
 */
import { childEnv, MAIN, runFlags } from "./env.ts";

/** What `dev-server --json` prints first. */
export interface ServerInfo {
  origin: string;
  apiUrl: string;
  graphqlUrl: string;
  clientId: string;
  clientSecret: string;
  repository: string;
  caFile?: string;
}

/** A running `loopauth dev-server --json`. */
export interface DevServer {
  /** Its first line. */
  info: ServerInfo;
  /** Its process id (e.g. for `ps -o rss=`). */
  pid: number;
  /** Stops it with `signal` (default SIGTERM); its exit code and stderr. */
  stop(signal?: Deno.Signal): Promise<{ code: number; stderr: string }>;
}

/** Reads the first line of a stream (at most 30 s), then stops reading it. */
export async function firstLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`No line in 30 s (so far: ${text})`)), 30_000);
  });
  try {
    while (!text.includes("\n")) {
      const { value, done } = await Promise.race([reader.read(), timeout]);
      if (done) throw new Error(`The stream ended without a line: ${text}`);
      text += value;
    }
    return text.slice(0, text.indexOf("\n"));
  } finally {
    clearTimeout(timer);
    await reader.cancel();
  }
}

/**
 * Starts `loopauth dev-server --json ...args` with the documented `deno run`
 * flags for `configHome`'s config directory.
 */
export async function startDevServer(args: string[], configHome: string): Promise<DevServer> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...runFlags(`${configHome}/loopauth`), MAIN, "dev-server", "--json", ...args],
    env: childEnv(configHome),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const stop = async (signal: Deno.Signal = "SIGTERM") => {
    try {
      child.kill(signal);
    } catch { /* already gone */ }
    const { code } = await child.status;
    return { code, stderr: await stderr };
  };
  try {
    return { info: JSON.parse(await firstLine(child.stdout)), pid: child.pid, stop };
  } catch (error) {
    const { stderr } = await stop("SIGKILL");
    throw new Error(`dev-server did not start: ${stderr}`, { cause: error });
  }
}
