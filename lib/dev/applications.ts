/**
 * The built-in provider's OAuth app endpoints of the REST API, with Basic
 * `client_id:client_secret` auth: check (`POST`), reset (`PATCH`) and delete
 * (`DELETE`) `/applications/{client_id}/token`, create a scoped token
 * (`POST …/token/scoped`), and delete the whole authorization (`DELETE
 * /applications/{client_id}/grant`).
 * @module
 */
import { SECURITY_HEADERS } from "../core/pages.ts";
import { basicCredentials } from "./params.ts";
import { apiError, apiJson, randomToken, safeJson } from "./responses.ts";
import { authorizationJson } from "./shapes.ts";
import type { DevState, IssuedToken } from "./state.ts";
import { replaceToken, revokeToken } from "./tokens.ts";

const DOCS = "https://docs.github.com/rest/apps/oauth-applications";

/**
 * The handler of these endpoints: it answers `path` (without `/api/v3`)
 * when it is one of them, else `undefined`.
 */
export function applicationsEndpoint(
  state: DevState,
): (request: Request, path: string, body: string) => Promise<Response | undefined> {
  return (request, path, body) => answer(state, { request, path, body });
}

async function answer(
  state: DevState,
  { request, path, body }: { request: Request; path: string; body: string },
): Promise<Response | undefined> {
  const match = /^\/applications\/([^/]+)\/(token|token\/scoped|grant)$/.exec(path);
  if (!match) return undefined;
  const [, rawClientId, what] = match;
  const allowed: Record<string, string[]> = {
    token: ["POST", "PATCH", "DELETE"],
    "token/scoped": ["POST"],
    grant: ["DELETE"],
  };
  if (!allowed[what].includes(request.method)) return apiError(404, "Not Found");
  const basic = basicCredentials(request);
  if (!basic) return apiError(401, "Requires authentication", { documentationUrl: DOCS });
  let clientId = rawClientId;
  try {
    clientId = decodeURIComponent(rawClientId);
  } catch { /* compared as it is */ }
  if (basic.user !== state.provider.clientId || basic.password !== state.provider.clientSecret) {
    return apiError(401, "Bad credentials", { documentationUrl: DOCS });
  }
  if (clientId !== state.provider.clientId) {
    return apiError(404, "Not Found", { documentationUrl: DOCS });
  }
  const accessToken = safeJson(body).access_token;
  if (typeof accessToken !== "string" || accessToken === "") {
    return apiError(422, 'Invalid request.\n\n"access_token" wasn\'t supplied.', {
      documentationUrl: DOCS,
    });
  }
  const issued = state.tokens.get(accessToken);
  if (!issued || !state.live(issued) || issued.clientId !== state.provider.clientId) {
    return apiError(404, "Not Found", { documentationUrl: DOCS });
  }
  if (request.method === "DELETE") {
    if (what === "grant") revokeGrant(state, issued);
    else revokeToken(state, accessToken);
    return new Response(null, { status: 204, headers: SECURITY_HEADERS });
  }
  if (request.method === "PATCH") {
    const token = replaceToken(state, accessToken);
    return apiJson(200, await authorizationJson(state, token));
  }
  if (what === "token/scoped") {
    // A new token for the same user and app, beside the one it came from.
    const token = randomToken(accessToken.slice(0, 4), 36);
    const scoped: IssuedToken = {
      id: ++state.lastId,
      clientId: issued.clientId,
      scopes: issued.scopes,
      user: issued.user,
      created: Date.now(),
      ...(issued.expires === undefined ? {} : { expires: issued.expires }),
    };
    state.tokens.set(token, scoped);
    return apiJson(200, await authorizationJson(state, token));
  }
  return apiJson(200, await authorizationJson(state, accessToken));
}

/** Revokes every token and refresh token of the app for the user. */
function revokeGrant(state: DevState, issued: IssuedToken): void {
  for (const map of [state.tokens, state.refreshTokens] as Map<string, IssuedToken>[]) {
    for (const [key, other] of map) {
      if (other.user.id === issued.user.id && other.clientId === issued.clientId) map.delete(key);
    }
  }
}
