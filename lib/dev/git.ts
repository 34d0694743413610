/**
 * git's smart HTTP for the built-in provider's demo repository, as GitHub
 * serves it: `/OWNER/NAME.git/info/refs`, `git-upload-pack` (clone, fetch)
 * and `git-receive-pack` (push), with HTTP Basic auth whose password is a
 * live token with the `repo` scope. git itself answers, through
 * `git http-backend` (CGI); the repository is made on the first request.
 * @module
 */
import { readEnv } from "../core/env_vars.ts";
import { callerOf, canReadRepository } from "./api.ts";
import { MAX_GIT_BODY_BYTES, readBody } from "./limits.ts";
import { emailOf } from "./shapes.ts";
import type { DevState } from "./state.ts";

/** The parts of a smart-HTTP path: whose repository, which, and the git service path. */
export interface GitRoute {
  owner: string;
  name: string;
  /** `info/refs`, `git-upload-pack` or `git-receive-pack`. */
  service: string;
}

/**
 * The route of a git smart-HTTP request path (`.git` optional, as on
 * GitHub), or `undefined`.
 *
 * @example
 * ```ts
 * import { gitRoute } from "./git.ts";
 * gitRoute("/octocat/hello-world.git/info/refs"); // { owner: "octocat", name: "hello-world", service: "info/refs" }
 * gitRoute("/api/v3/user"); // undefined
 * ```
 */
export function gitRoute(pathname: string): GitRoute | undefined {
  const match = /^\/([^/]+)\/([^/]+?)(?:\.git)?\/(info\/refs|git-upload-pack|git-receive-pack)$/
    .exec(pathname);
  return match ? { owner: match[1], name: match[2], service: match[3] } : undefined;
}

/** How long one git process may take before it is stopped. */
const GIT_TIMEOUT_MS = 60_000;

/** Answers git's smart-HTTP requests for the demo repository. */
export function gitEndpoint(
  state: DevState,
): (request: Request, route: GitRoute) => Promise<Response> {
  let made: Promise<string> | undefined;
  return async (request: Request, route: GitRoute): Promise<Response> => {
    const caller = callerOf(state, request);
    if (caller.kind !== "token") {
      return text(
        401,
        caller.kind === "refused"
          ? "Invalid username or token. Password authentication is not supported for Git operations.\n"
          : "Authentication required: use a token as the password.\n",
        { "WWW-Authenticate": 'Basic realm="GitHub"' },
      );
    }
    const { owner, name } = state.repository;
    const isDemo = route.owner.toLowerCase() === owner.login.toLowerCase() &&
      route.name.toLowerCase() === name.toLowerCase();
    if (!isDemo || !canReadRepository(state, caller.issued)) {
      return text(404, "Repository not found.\n");
    }
    const post = route.service !== "info/refs";
    if (request.method !== (post ? "POST" : "GET")) return text(405, "Method not allowed.\n");
    const body = await readBody(request, MAX_GIT_BODY_BYTES);
    if (!body) {
      return text(
        413,
        `The request body is over ${
          MAX_GIT_BODY_BYTES / 1024 / 1024
        } MiB, the most this dev-server reads.\n`,
      );
    }
    let root: string;
    try {
      made ??= makeRepository(state);
      root = await made;
    } catch (error) {
      made = undefined;
      return text(503, `The dev-server cannot serve git: ${(error as Error).message}\n`);
    }
    const url = new URL(request.url);
    const protocol = request.headers.get("git-protocol") ?? "";
    const env: Record<string, string> = {
      ...gitEnv(),
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: "1",
      PATH_INFO: `/${owner.login}/${name}.git/${route.service}`,
      REQUEST_METHOD: request.method,
      QUERY_STRING: url.search.slice(1),
      CONTENT_TYPE: request.headers.get("content-type") ?? "",
      REMOTE_USER: caller.issued.user.login, // enables git-receive-pack
      REMOTE_ADDR: "127.0.0.1",
      SERVER_PROTOCOL: "HTTP/1.1",
      ...(post ? { CONTENT_LENGTH: String(body.length) } : {}),
      ...(/^[\w.:=,-]+$/.test(protocol) ? { GIT_PROTOCOL: protocol } : {}),
      ...(request.headers.get("content-encoding") === "gzip"
        ? { HTTP_CONTENT_ENCODING: "gzip" }
        : {}),
    };
    let output: Uint8Array<ArrayBuffer>;
    try {
      output = await run(["http-backend"], { env, input: body });
    } catch (error) {
      return text(503, `The dev-server cannot serve git: ${(error as Error).message}\n`);
    }
    return cgiResponse(output);
  };
}

/** The environment of every git process: no system or global config of whoever runs the provider. */
function gitEnv(): Record<string, string> {
  const { PATH, SystemRoot } = readEnv(["PATH", "SystemRoot"]);
  return {
    ...(PATH ? { PATH } : {}),
    ...(SystemRoot ? { SystemRoot } : {}),
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: Deno.build.os === "windows" ? "NUL" : "/dev/null",
    GIT_TERMINAL_PROMPT: "0",
  };
}

/** Runs git with `args`; its stdout, or an error with its stderr's first line. */
async function run(
  args: string[],
  options: { env?: Record<string, string>; input?: Uint8Array },
): Promise<Uint8Array<ArrayBuffer>> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("git", {
      args,
      env: options.env ?? gitEnv(),
      clearEnv: true,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(GIT_TIMEOUT_MS),
    }).spawn();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error("git is not installed (the demo repository is served by git http-backend)", {
        cause: error,
      });
    }
    throw error;
  }
  const writer = child.stdin.getWriter();
  // git may exit before it reads all of its input (a refused request): that is its answer.
  await writer.write(options.input ?? new Uint8Array()).catch(() => {});
  await writer.close().catch(() => {});
  const { code, stdout, stderr } = await child.output();
  if (code !== 0) {
    const line = new TextDecoder().decode(stderr).split("\n").find((l) => l.trim()) ?? "";
    const what = args.find((a) => /^[a-z][a-z-]+$/.test(a)) ?? "";
    throw new Error(`git ${what} failed (exit ${code})${line ? `: ${line.trim()}` : ""}`);
  }
  return stdout;
}

/**
 * Makes the demo repository (bare, one commit on `main` with a README) in
 * the provider's directory; returns the root that holds `OWNER/NAME.git`.
 */
async function makeRepository(state: DevState): Promise<string> {
  const root = `${state.workdir.path()}/git`;
  const { owner, name } = state.repository;
  const dir = `${root}/${owner.login}/${name}.git`;
  await run(["init", "--bare", "--quiet", "--template=", "--initial-branch=main", dir], {});
  const readme = new TextEncoder().encode(
    `# ${name}\n\nThe loopauth dev-server's demo repository: clone it, push to it.\n`,
  );
  const message = new TextEncoder().encode("Initial commit\n");
  const who = `${owner.name} <${emailOf(owner)}> 1296269000 +0000`;
  // One fast-import stream: the commit, its tree and blob in one git process.
  const stream = [
    new TextEncoder().encode(
      `commit refs/heads/main\nauthor ${who}\ncommitter ${who}\ndata ${message.length}\n`,
    ),
    message,
    new TextEncoder().encode(`M 100644 inline README.md\ndata ${readme.length}\n`),
    readme,
    new TextEncoder().encode("\n"),
  ];
  const input = new Uint8Array(stream.reduce((n, part) => n + part.length, 0));
  stream.reduce((at, part) => (input.set(part, at), at + part.length), 0);
  await run(["--git-dir", dir, "fast-import", "--quiet"], { input });
  return root;
}

/** A CGI program's output (headers, a blank line, the body) as a response. */
function cgiResponse(output: Uint8Array<ArrayBuffer>): Response {
  let end = -1;
  let skip = 0;
  for (let i = 0; i < output.length - 1; i++) {
    if (output[i] === 10 && output[i + 1] === 10) [end, skip] = [i, 2];
    else if (output[i] === 13 && output.subarray(i, i + 4).join() === "13,10,13,10") {
      [end, skip] = [i, 4];
    }
    if (end >= 0) break;
  }
  if (end < 0) return text(502, "git http-backend answered no headers.\n");
  const headers = new Headers();
  let status = 200;
  for (const line of new TextDecoder().decode(output.subarray(0, end)).split(/\r?\n/)) {
    const at = line.indexOf(":");
    if (at <= 0) continue;
    const [key, value] = [line.slice(0, at).trim(), line.slice(at + 1).trim()];
    if (key.toLowerCase() === "status") status = Number.parseInt(value, 10) || 500;
    else headers.append(key, value);
  }
  return new Response(status === 204 || status === 304 ? null : output.subarray(end + skip), {
    status,
    headers,
  });
}

function text(status: number, body: string, headers: Record<string, string> = {}): Response {
  return new Response(body, {
    status,
    headers: {
      "Content-Type": "text/plain; charset=utf-8",
      "Cache-Control": "no-store",
      ...headers,
    },
  });
}
