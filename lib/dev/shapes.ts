/**
 * GitHub's JSON shapes as the built-in provider answers them: users, the
 * demo repository, and the authorization object of
 * `/applications/{client_id}/token`. Field names and types as in GitHub's
 * REST API description; values made up but consistent.
 * @module
 */
import type { DevState, IssuedToken } from "./state.ts";
import type { DevUser } from "./types.ts";

/** A fixed time for the things the provider pretends existed before it started. */
const CREATED_AT = "2011-01-25T18:44:36Z";

/**
 * A GitHub global node id (`04:User583231` in base64, as GitHub's legacy ids).
 *
 * @example
 * ```ts
 * import { nodeId } from "./shapes.ts";
 * nodeId("User", 583231); // "MDQ6VXNlcjU4MzIzMQ=="
 * ```
 */
export function nodeId(type: string, id: number): string {
  return btoa(`${String(type.length).padStart(2, "0")}:${type}${id}`);
}

/** GitHub's "simple user" (the `user`/`owner` of other objects). */
export function simpleUser(state: DevState, user: DevUser): Record<string, unknown> {
  const api = `${state.provider.apiUrl}/users/${user.login}`;
  return {
    login: user.login,
    id: user.id,
    node_id: nodeId("User", user.id),
    avatar_url: `${state.provider.origin}/avatars/u/${user.id}`,
    gravatar_id: "",
    url: api,
    html_url: `${state.provider.origin}/${user.login}`,
    followers_url: `${api}/followers`,
    following_url: `${api}/following{/other_user}`,
    gists_url: `${api}/gists{/gist_id}`,
    starred_url: `${api}/starred{/owner}{/repo}`,
    subscriptions_url: `${api}/subscriptions`,
    organizations_url: `${api}/orgs`,
    repos_url: `${api}/repos`,
    events_url: `${api}/events{/privacy}`,
    received_events_url: `${api}/received_events`,
    type: "User",
    user_view_type: "public",
    site_admin: false,
  };
}

/**
 * The user's primary email address (GitHub's no-reply form).
 *
 * @example
 * ```ts
 * import { emailOf } from "./shapes.ts";
 * emailOf({ login: "octocat", id: 583231, name: "The Octocat" }); // "583231+octocat@users.noreply.github.com"
 * ```
 */
export function emailOf(user: DevUser): string {
  return `${user.id}+${user.login}@users.noreply.github.com`;
}

/** `GET /user`: the authenticated user ("private user" with `user` scope). */
export function authenticatedUser(
  state: DevState,
  token: IssuedToken,
  options: { private: boolean },
): Record<string, unknown> {
  const user = token.user;
  return {
    ...simpleUser(state, user),
    name: user.name,
    company: null,
    blog: "",
    location: null,
    email: null,
    hireable: null,
    bio: null,
    twitter_username: null,
    notification_email: null,
    public_repos: 0,
    public_gists: 0,
    followers: 0,
    following: 0,
    created_at: CREATED_AT,
    updated_at: CREATED_AT,
    ...(options.private
      ? {
        private_gists: 0,
        total_private_repos: 1,
        owned_private_repos: 1,
        disk_usage: 1,
        collaborators: 0,
        two_factor_authentication: true,
        plan: { name: "free", space: 976562499, collaborators: 0, private_repos: 10000 },
      }
      : {}),
  };
}

/** The demo repository's number. */
export const REPOSITORY_ID = 1296269;

/** `GET /repos/{owner}/{repo}` for the demo repository. */
export function repositoryJson(state: DevState): Record<string, unknown> {
  const { owner, name } = state.repository;
  const fullName = `${owner.login}/${name}`;
  const api = `${state.provider.apiUrl}/repos/${fullName}`;
  return {
    id: REPOSITORY_ID,
    node_id: nodeId("Repository", REPOSITORY_ID),
    name,
    full_name: fullName,
    private: true,
    owner: simpleUser(state, owner),
    html_url: `${state.provider.origin}/${fullName}`,
    description: "The loopauth dev-server's demo repository",
    fork: false,
    url: api,
    git_url: `${state.provider.origin}/${fullName}.git`.replace(/^https?:/, "git:"),
    ssh_url: `git@${new URL(state.provider.origin).hostname}:${fullName}.git`,
    clone_url: state.provider.repository.cloneUrl,
    homepage: null,
    size: 1,
    stargazers_count: 0,
    watchers_count: 0,
    forks_count: 0,
    open_issues_count: 0,
    language: null,
    archived: false,
    disabled: false,
    visibility: "private",
    default_branch: "main",
    created_at: CREATED_AT,
    updated_at: CREATED_AT,
    pushed_at: CREATED_AT,
    permissions: { admin: true, maintain: true, push: true, triage: true, pull: true },
  };
}

/** The authorization object of `POST`/`PATCH /applications/{client_id}/token`. */
export async function authorizationJson(
  state: DevState,
  token: string,
): Promise<Record<string, unknown>> {
  const issued = state.tokens.get(token);
  if (!issued) throw new Error("No such token");
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token));
  const created = new Date(issued.created).toISOString().replace(/\.\d+Z$/, "Z");
  return {
    id: issued.id,
    url: `${state.provider.apiUrl}/authorizations/${issued.id}`,
    scopes: issued.scopes,
    token,
    token_last_eight: token.slice(-8),
    hashed_token: Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0"))
      .join(""),
    app: {
      client_id: issued.clientId,
      name: "loopauth dev-server app",
      url: `${state.provider.origin}/settings/applications`,
    },
    note: null,
    note_url: null,
    updated_at: created,
    created_at: created,
    fingerprint: null,
    expires_at: issued.expires === undefined
      ? null
      : new Date(issued.expires).toISOString().replace(/\.\d+Z$/, "Z"),
    user: simpleUser(state, issued.user),
    installation: null,
  };
}
