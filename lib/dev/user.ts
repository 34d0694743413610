/**
 * Plays the user against the built-in provider, as a browser would: the
 * consent page, and the device activation page.
 * @module
 */

/** How {@linkcode actAsUser} and {@linkcode approveDeviceCode} play the user. */
export interface UserOptions {
  /** Press Authorize (default) or Cancel. */
  decision?: "authorize" | "cancel";
  /** Aborting stops the requests. */
  signal?: AbortSignal;
  /**
   * The HTTP client for the requests: for a provider with `tls`,
   * `Deno.createHttpClient({ caCerts: [await Deno.readTextFile(provider.caFile!)] })`.
   */
  client?: Deno.HttpClient;
}

/**
 * Plays the user in a browser for a login URL of the dev provider (or a
 * login's one-time start URL, which redirects to one): loads the consent
 * page, presses Authorize (or Cancel), which sends the page's CSRF token with
 * the form, and follows the redirect to the callback. Returns the callback's
 * answer.
 *
 * @example
 * ```ts ignore
 * import { actAsUser } from "./user.ts";
 * const page = await actAsUser("http://127.0.0.1:8080/login/oauth/authorize?…", { decision: "authorize" });
 * console.log(page.status);
 * ```
 */
export async function actAsUser(
  authorizationUrl: string,
  options: UserOptions = {},
): Promise<{ status: number; body: string }> {
  const { signal, client } = options;
  let response = await fetch(authorizationUrl, { redirect: "manual", signal, client });
  // A login's one-time start URL (`http://127.0.0.1:PORT/start/…`) redirects to the consent page.
  if (response.status === 302 && new URL(authorizationUrl).pathname.startsWith("/start/")) {
    const target = response.headers.get("location");
    await response.body?.cancel();
    if (!target) throw new Error("The start URL redirects nowhere");
    authorizationUrl = new URL(target, authorizationUrl).href;
    response = await fetch(authorizationUrl, { redirect: "manual", signal, client });
  }
  if (response.status === 200) {
    const page = await response.text();
    const id = /name="request" value="([^"]+)"/.exec(page)?.[1];
    if (!id) throw new Error("The consent page has no request id");
    response = await fetch(new URL("/login/oauth/authorize", authorizationUrl), {
      method: "POST",
      body: new URLSearchParams({
        request: id,
        csrf: csrfToken(page, "consent"),
        decision: options.decision ?? "authorize",
      }),
      redirect: "manual",
      signal,
      client,
    });
  }
  const location = response.headers.get("location");
  await response.body?.cancel();
  if (response.status !== 302 || !location) {
    throw new Error(`The provider answered HTTP ${response.status} instead of a redirect`);
  }
  const callback = await fetch(location, { redirect: "manual", signal, client });
  return { status: callback.status, body: await callback.text() };
}

/**
 * Plays the user on the dev provider's `/login/device` page: loads it, enters
 * the code and presses Authorize (or Cancel), which sends the page's CSRF
 * token with the form. Returns the page's answer.
 *
 * @example
 * ```ts ignore
 * import { approveDeviceCode } from "./user.ts";
 * const page = await approveDeviceCode("http://127.0.0.1:8080", "WDJB-MJHT");
 * console.log(page.status); // 200
 * ```
 */
export async function approveDeviceCode(
  origin: string,
  userCode: string,
  options: UserOptions = {},
): Promise<{ status: number; body: string }> {
  const { signal, client } = options;
  const form = await fetch(new URL("/login/device", origin), { signal, client });
  const page = await form.text();
  if (!page.includes('name="user_code"')) throw new Error("The device page has no code field");
  const response = await fetch(new URL("/login/device", origin), {
    method: "POST",
    body: new URLSearchParams({
      user_code: userCode,
      csrf: csrfToken(page, "device"),
      decision: options.decision ?? "authorize",
    }),
    signal,
    client,
  });
  return { status: response.status, body: await response.text() };
}

/** The CSRF token of a form page (its hidden `csrf` field), as a browser would send it back. */
function csrfToken(page: string, what: string): string {
  const token = /name="csrf" value="([^"]+)"/.exec(page)?.[1];
  if (!token) throw new Error(`The ${what} page has no CSRF token`);
  return token;
}
