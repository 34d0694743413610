/**
 * A real OpenID Provider for the tests (npm oidc-provider under Node, see
 * tests/oidc_provider.mjs) and a scripted user agent that signs in and
 * consents on its pages.
 */
import { fileURLToPath } from "node:url";
import { ROOT } from "./helpers.ts";

const SCRIPT = fileURLToPath(new URL("./oidc_provider.mjs", import.meta.url));

/** A running oidc-provider. */
export interface TestOidcProvider extends AsyncDisposable {
  /** `http://127.0.0.1:PORT`. */
  issuer: string;
  /** The public (PKCE-only) client. */
  publicClient: string;
  /** The confidential client and its secret (client_secret_basic). */
  confidential: { id: string; secret: string };
}

/** Starts oidc-provider on 127.0.0.1; fails clearly when Node or the package is missing. */
export async function startOidcProvider(): Promise<TestOidcProvider> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("node", {
      args: [SCRIPT],
      cwd: ROOT,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    throw new Error(`Cannot start node for oidc-provider (run deno task setup): ${error}`);
  }
  const stderr = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let line = "";
  while (!line.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) {
      await child.status;
      throw new Error(`oidc-provider did not start (run deno task setup):\n${await stderr}`);
    }
    line += value;
  }
  const { issuer } = JSON.parse(line.split("\n")[0]);
  const writer = child.stdin.getWriter();
  return {
    issuer,
    publicClient: "native",
    confidential: { id: "confidential", secret: "confidential-secret-0123456789" },
    async [Symbol.asyncDispose]() {
      await writer.close().catch(() => {});
      await child.status;
      reader.releaseLock();
      await child.stdout.cancel().catch(() => {});
      await stderr;
    },
  };
}

/** What the scripted user agent saw at the end. */
export interface UserAgentResult {
  /** The callback URL the provider redirected to (as delivered). */
  callback: string;
  /** The loopback server's answer. */
  status: number;
  body: string;
}

/**
 * Acts as the user in a browser: follows the provider's redirects, signs in
 * as `login` and consents on the devInteractions pages, then delivers the
 * callback (after `tamper`, when given) to the CLI's loopback server. With
 * `device`, `url` is the device page and the walk ends on its success page.
 */
export async function actAsOidcUser(
  url: string,
  options: { login?: string; tamper?: (callback: URL) => void; device?: boolean } = {},
): Promise<UserAgentResult> {
  const login = options.login ?? "alice";
  const cookies = new Map<string, string>();
  const remember = (response: Response) => {
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(";");
      const at = pair.indexOf("=");
      cookies.set(pair.slice(0, at), pair.slice(at + 1));
    }
  };
  const header = () => [...cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  let next = new URL(url);
  let form: URLSearchParams | undefined;
  for (let hop = 0; hop < 20; hop++) {
    if (next.pathname === "/callback" && next.hostname === "127.0.0.1" && !form) {
      options.tamper?.(next);
      const response = await fetch(next);
      return { callback: next.href, status: response.status, body: await response.text() };
    }
    const response = await fetch(next, {
      method: form ? "POST" : "GET",
      headers: {
        cookie: header(),
        ...(form ? { "content-type": "application/x-www-form-urlencoded" } : {}),
      },
      body: form,
      redirect: "manual",
    });
    remember(response);
    form = undefined;
    const location = response.headers.get("location");
    if (location) {
      await response.body?.cancel();
      next = new URL(location, next);
      continue;
    }
    const html = await response.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    if (!action) {
      // The device flow ends on the provider's own success page.
      if (options.device) return { callback: "", status: response.status, body: html };
      throw new Error(`Unexpected page at ${next.pathname} (HTTP ${response.status}):\n${html}`);
    }
    next = new URL(action.replaceAll("&amp;", "&"), next);
    form = new URLSearchParams();
    for (const [, name, value] of html.matchAll(/<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g)) {
      form.set(name, value);
    }
    if (form.get("prompt") === "login") {
      form.set("login", login);
      form.set("password", "any");
    }
  }
  throw new Error("Too many redirects at the provider");
}
