/**
 * The built-in provider's REST API under `/api/v3` (GitHub Enterprise
 * Server's layout): the root, `GET /user`, `/user/emails`, `/user/repos`,
 * `/repos/{owner}/{repo}` of the demo repository, and the OAuth app
 * endpoints (applications.ts). Every answer to a token carries
 * `X-OAuth-Scopes` and `X-Accepted-OAuth-Scopes`; every error is JSON.
 * @module
 */
import { applicationsEndpoint } from "./applications.ts";
import { basicCredentials } from "./params.ts";
import { apiError, apiJson } from "./responses.ts";
import { authenticatedUser, emailOf, repositoryJson } from "./shapes.ts";
import { type DevState, hasScope, type IssuedToken } from "./state.ts";

/** What the request's `Authorization` says: no token, a live token, or a refused one. */
export type Caller =
  | { kind: "anonymous" }
  | { kind: "token"; token: string; issued: IssuedToken }
  | { kind: "refused" };

/**
 * The caller of an API request: `Authorization: token|bearer TOKEN`, or
 * Basic auth with the token as the password (or as the user name, as
 * GitHub allows).
 */
export function callerOf(state: DevState, request: Request): Caller {
  const header = request.headers.get("authorization");
  if (header === null) return { kind: "anonymous" };
  const basic = basicCredentials(request);
  const bearer = /^(?:token|bearer)\s+(\S+)$/i.exec(header)?.[1];
  const candidates = basic ? [basic.password, basic.user] : bearer ? [bearer] : [];
  for (const token of candidates) {
    const issued = state.tokens.get(token);
    if (issued && state.live(issued)) return { kind: "token", token, issued };
  }
  return { kind: "refused" };
}

/**
 * Whether a token may read (and push to) the private demo repository: its
 * owner's, with the `repo` scope.
 */
export function canReadRepository(state: DevState, issued: IssuedToken): boolean {
  return issued.user.id === state.repository.owner.id && hasScope(issued, "repo");
}

/** The scope headers GitHub puts on an answer to a token. */
export function scopeHeaders(
  caller: Caller,
  accepted: string[] = [],
): Record<string, string> {
  if (caller.kind !== "token") return {};
  const expires = caller.issued.expires;
  return {
    "X-OAuth-Scopes": caller.issued.scopes.join(", "),
    "X-Accepted-OAuth-Scopes": accepted.join(", "),
    "X-OAuth-Client-Id": caller.issued.clientId,
    ...(expires === undefined ? {} : {
      "GitHub-Authentication-Token-Expiration": new Date(expires).toISOString()
        .replace("T", " ").replace(/\.\d+Z$/, " UTC"),
    }),
    ...rateLimit(5000),
  };
}

function rateLimit(limit: number): Record<string, string> {
  return {
    "X-RateLimit-Limit": String(limit),
    "X-RateLimit-Remaining": String(limit - 1),
    "X-RateLimit-Reset": String(Math.floor(Date.now() / 1000) + 3600),
    "X-RateLimit-Used": "1",
    "X-RateLimit-Resource": "core",
  };
}

/** Answers one API request (`path` without `/api/v3`). */
export function apiEndpoint(
  state: DevState,
): (request: Request, path: string, body: string) => Promise<Response> {
  const applications = applicationsEndpoint(state);
  return async (request: Request, path: string, body: string): Promise<Response> => {
    const apps = await applications(request, path, body);
    if (apps) return apps;
    const caller = callerOf(state, request);
    // An invalid token is refused everywhere, even where no token is needed.
    if (caller.kind === "refused") return apiError(401, "Bad credentials");
    const anonymous = caller.kind === "anonymous" ? rateLimit(60) : {};
    const answer = (data: unknown, accepted: string[] = []) =>
      apiJson(200, data, { ...anonymous, ...scopeHeaders(caller, accepted) });
    const notFound = (accepted: string[] = []) =>
      apiError(404, "Not Found", { headers: { ...anonymous, ...scopeHeaders(caller, accepted) } });
    if (request.method !== "GET" && request.method !== "HEAD") return notFound();
    const api = state.provider.apiUrl;
    const { owner, name } = state.repository;
    if (path === "/" || path === "") {
      return answer({
        current_user_url: `${api}/user`,
        emails_url: `${api}/user/emails`,
        repository_url: `${api}/repos/{owner}/{repo}`,
        user_url: `${api}/users/{user}`,
        user_repositories_url: `${api}/users/{user}/repos`,
        current_user_repositories_url: `${api}/user/repos{?type,page,per_page,sort}`,
      });
    }
    const repoMatch = /^\/repos\/([^/]+)\/([^/]+)$/.exec(path);
    const isDemo = repoMatch !== null &&
      repoMatch[1].toLowerCase() === owner.login.toLowerCase() &&
      repoMatch[2].toLowerCase() === name.toLowerCase();
    if (caller.kind !== "token") {
      if (path === "/user" || path.startsWith("/user/")) {
        return apiError(401, "Requires authentication", { headers: anonymous });
      }
      return notFound(); // the demo repository is private
    }
    const { issued } = caller;
    if (path === "/user") {
      return answer(authenticatedUser(state, issued, { private: hasScope(issued, "user") }));
    }
    if (path === "/user/emails") {
      const accepted = ["user", "user:email"];
      if (!hasScope(issued, "user:email")) return notFound(accepted);
      return answer([{
        email: emailOf(issued.user),
        primary: true,
        verified: true,
        visibility: "private",
      }], accepted);
    }
    if (path === "/user/repos") {
      return answer(canReadRepository(state, issued) ? [repositoryJson(state)] : []);
    }
    if (isDemo) {
      if (!canReadRepository(state, issued)) return notFound(["repo"]);
      return answer(repositoryJson(state), ["repo"]);
    }
    return notFound();
  };
}
