/**
 * The built-in provider's REST API under `/api/v3`: `GET /user` and token
 * revocation (`DELETE /applications/{client_id}/token|grant`).
 * @module
 */
import { SECURITY_HEADERS } from "../core/pages.ts";
import { apiJson, safeJson } from "./responses.ts";
import type { DevState, IssuedToken } from "./state.ts";

/** Answers one API request (`path` without `/api/v3`). */
export function apiEndpoint(
  state: DevState,
): (request: Request, path: string, body: string) => Response {
  return (request: Request, path: string, body: string): Response => {
    const revoke = /^\/applications\/([^/]+)\/(token|grant)$/.exec(path);
    if (revoke && request.method === "DELETE") {
      const expected = `basic ${btoa(`${state.provider.clientId}:${state.provider.clientSecret}`)}`;
      if (
        decodeURIComponent(revoke[1]) !== state.provider.clientId ||
        (request.headers.get("authorization") ?? "").toLowerCase() !== expected.toLowerCase()
      ) {
        return apiJson(401, { message: "Requires authentication" });
      }
      const token = String(safeJson(body).access_token ?? "");
      const issued = state.tokens.get(token);
      if (!issued) return apiJson(404, { message: "Not Found" });
      state.tokens.delete(token);
      if (issued.refreshToken) state.refreshTokens.delete(issued.refreshToken);
      if (revoke[2] === "grant") {
        // The whole authorization: every token and refresh token of the app and user.
        for (const map of [state.tokens, state.refreshTokens] as Map<string, IssuedToken>[]) {
          for (const [key, other] of map) if (other.user.id === issued.user.id) map.delete(key);
        }
      }
      return new Response(null, { status: 204, headers: SECURITY_HEADERS });
    }
    const auth = /^(?:token|bearer) (\S+)$/i.exec(request.headers.get("authorization") ?? "");
    const grant = auth ? state.tokens.get(auth[1]) : undefined;
    if (!grant || !state.live(grant)) return apiJson(401, { message: "Bad credentials" });
    const user = grant.user;
    if (path === "/user" && request.method === "GET") {
      return apiJson(200, {
        ...user,
        type: "User",
        html_url: `${state.provider.origin}/${user.login}`,
      }, {
        "X-OAuth-Scopes": grant.scopes.join(", "),
      });
    }
    return apiJson(404, { message: "Not Found" });
  };
}
