/**
 * Routes an app adds to the built-in provider's REST API for its own tests
 * (`GET /user/starred`, …): they run behind the provider's real parts (the
 * Host check, the OAuth endpoints, live tokens), so a route sees only a
 * request with a valid token, and its answer carries GitHub's headers.
 * @module
 */
import { callerOf, scopeHeaders } from "./api.ts";
import { apiError, apiJson } from "./responses.ts";
import { SECURITY_HEADERS } from "../core/pages.ts";
import type { DevState } from "./state.ts";
import type { DevRoute, DevRouteContext } from "./types.ts";

/**
 * The answer of the app's route for an API request (`path` without
 * `/api/v3`), or `undefined` when no route is the request's (the built-in
 * API answers it). `routes` are keyed `"METHOD /path"`; a `:name` segment
 * matches one path segment and is passed in `params`.
 */
export async function customRoute(
  state: DevState,
  routes: Readonly<Record<string, DevRoute>>,
  call: { request: Request; path: string; body: string },
): Promise<Response | undefined> {
  for (const [key, route] of Object.entries(routes)) {
    const [method, pattern] = key.split(" ", 2);
    const params = match(pattern ?? "", call.path);
    if (params === undefined || method.toUpperCase() !== call.request.method) continue;
    const caller = callerOf(state, call.request);
    if (caller.kind === "refused") return apiError(401, "Bad credentials");
    if (caller.kind !== "token") return apiError(401, "Requires authentication");
    const context: DevRouteContext = {
      request: call.request,
      body: call.body,
      params,
      query: new URL(call.request.url).searchParams,
      user: caller.issued.user,
      scopes: [...caller.issued.scopes],
    };
    const answer = await route(context);
    if (answer instanceof Response) return answer;
    if (answer === undefined) {
      return new Response(null, {
        status: 204,
        headers: { ...SECURITY_HEADERS, ...scopeHeaders(caller) },
      });
    }
    return apiJson(200, answer, scopeHeaders(caller));
  }
  return undefined;
}

/** The `:name` values of `path` when it matches `pattern`, else `undefined`. */
function match(pattern: string, path: string): Record<string, string> | undefined {
  const want = pattern.split("/");
  const got = path.split("?")[0].split("/");
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    if (want[i].startsWith(":")) {
      if (got[i] === "") return undefined;
      params[want[i].slice(1)] = decodeURIComponent(got[i]);
    } else if (want[i] !== got[i]) return undefined;
  }
  return params;
}
