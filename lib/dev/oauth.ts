/**
 * The built-in provider's OAuth endpoints as GitHub answers them: the
 * authorization page and decision, and the token endpoint (codes with PKCE
 * S256, refresh tokens, GitHub's 200-with-error answers).
 * @module
 */
import { calculatePKCECodeChallenge } from "npm:oauth4webapi@^3";
import { DEVICE_GRANT_TYPE } from "../core/types.ts";
import { escapeHtml } from "../core/text.ts";
import { SECURITY_HEADERS } from "../core/pages.ts";
import type { DeviceEndpoints } from "./device.ts";
import { CSRF_FIELD } from "./form_tokens.ts";
import { oauthAnswer, oauthParams } from "./params.ts";
import { html, randomToken } from "./responses.ts";
import { issueToken } from "./tokens.ts";
import type { DevState, DevUser, Grant } from "./state.ts";

const CODE_TTL_MS = 10 * 60_000;

/** Most consent pages waiting at once: the oldest go first. */
const MAX_PENDING = 1_000;

/** The OAuth endpoints of {@linkcode oauthEndpoints}. */
export interface OAuthEndpoints {
  /** `GET /login/oauth/authorize`: the consent page (or at once a redirect). */
  authorize(url: URL): Response;
  /** `POST /login/oauth/authorize`: the user's decision (the form's body). */
  decide(body: string): Response;
  /** `POST /login/oauth/access_token`. */
  accessToken(request: Request, body: string): Promise<Response>;
  /** A new token (pair, in expiring mode) as the token endpoint answers it. */
  issue(scopes: string[], user: DevUser): Record<string, string | number>;
}

/** The OAuth endpoints over the provider's state; device-grant polls go to `device`. */
export function oauthEndpoints(
  state: DevState,
  device: Pick<DeviceEndpoints, "poll">,
): OAuthEndpoints {
  const redirect = (grant: Grant, params: Record<string, string>) => {
    const url = new URL(grant.redirectUri);
    for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
    if (grant.state !== null) url.searchParams.set("state", grant.state);
    return new Response(null, {
      status: 302,
      headers: { ...SECURITY_HEADERS, Location: url.href },
    });
  };

  const approve = (grant: Grant) => {
    const code = randomToken("", 20);
    state.codes.set(code, {
      ...grant,
      expires: Date.now() + CODE_TTL_MS,
      user: state.provider.user,
    });
    return redirect(grant, { code });
  };

  const authorize = (url: URL): Response => {
    const q = url.searchParams;
    if (q.get("client_id") !== state.provider.clientId) {
      return html(404, "Unknown application", "<p>No application has this client_id.</p>");
    }
    const redirectUri = q.get("redirect_uri") ?? state.registered;
    if (!matchesRegisteredCallback(redirectUri, state.registered)) {
      return html(
        400,
        "Redirect URI mismatch",
        `<p>The redirect_uri must be ${escapeHtml(state.registered)}${
          new URL(state.registered).port ? "" : " (any port)"
        }.</p>`,
      );
    }
    const grant: Grant = {
      redirectUri,
      scopes: (q.get("scope") ?? "").split(/[\s,]+/).filter(Boolean),
      state: q.get("state"),
      codeChallenge: q.get("code_challenge"),
    };
    const method = q.get("code_challenge_method") ?? "plain";
    if (grant.codeChallenge !== null && method !== "S256") {
      return redirect(grant, {
        error: "invalid_request",
        error_description: "Only S256 code challenges are supported",
      });
    }
    if (state.provider.autoApprove) return approve(grant);
    const id = randomToken("", 16);
    state.pending.set(id, grant);
    while (state.pending.size > MAX_PENDING) {
      state.pending.delete(state.pending.keys().next().value!);
    }
    const csrf = state.forms.issue(`consent:${id}`);
    const scopes = grant.scopes.length
      ? grant.scopes.map((s) => `<li><code>${escapeHtml(s)}</code></li>`).join("")
      : "<li>Public information only</li>";
    return html(
      200,
      "Authorize application",
      `
<p><strong>${escapeHtml(state.provider.clientId)}</strong> wants to access your account
<strong>${escapeHtml(state.provider.user.login)}</strong> on this loopauth development server.</p>
<ul>${scopes}</ul>
<p>You will be sent back to <code>${escapeHtml(new URL(redirectUri).host)}</code>.</p>
<form method="post" action="/login/oauth/authorize">
<input type="hidden" name="request" value="${escapeHtml(id)}">
<input type="hidden" name="${CSRF_FIELD}" value="${escapeHtml(csrf)}">
<button type="submit" name="decision" value="authorize">Authorize</button>
<button type="submit" name="decision" value="cancel" class="secondary">Cancel</button>
</form>`,
    );
  };

  const decide = (body: string): Response => {
    const form = new URLSearchParams(body);
    const id = form.get("request") ?? "";
    // A cross-site form has no token of this page: it decides nothing.
    if (!state.forms.take(`consent:${id}`, form.get(CSRF_FIELD))) {
      return html(
        403,
        "Form expired",
        "<p>This form was used already, is too old, or was not sent from this server's page. Start the login again.</p>",
      );
    }
    const grant = state.pending.get(id);
    if (!grant) return html(400, "Request expired", "<p>Start the login again.</p>");
    state.pending.delete(id);
    if (form.get("decision") === "authorize") return approve(grant);
    return redirect(grant, {
      error: "access_denied",
      error_description: "The user has denied your application access.",
      error_uri:
        "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-authorization-request-errors/#access-denied",
    });
  };

  const accessToken = async (request: Request, body: string): Promise<Response> => {
    const params = oauthParams(request, body);
    const answer = (data: Record<string, string | number>) => oauthAnswer(request, data);
    const fail = (error: string, description: string) =>
      answer({
        error,
        error_description: description,
        error_uri: "https://docs.github.com/apps/troubleshooting-oauth-errors",
      });

    if (state.provider.tokenError) {
      return fail(state.provider.tokenError, `Forced ${state.provider.tokenError} for testing.`);
    }
    const grantType = params.get("grant_type") ?? "authorization_code";
    if (grantType === DEVICE_GRANT_TYPE) return answer(await device.poll(request, params));
    if (grantType !== "authorization_code" && grantType !== "refresh_token") {
      return fail("unsupported_grant_type", "Unsupported grant type.");
    }
    if (
      params.get("client_id") !== state.provider.clientId ||
      params.get("client_secret") !== state.provider.clientSecret
    ) {
      return fail(
        "incorrect_client_credentials",
        "The client_id and/or client_secret passed are incorrect.",
      );
    }
    if (grantType === "refresh_token") {
      const refreshToken = params.get("refresh_token") ?? "";
      const old = state.refreshTokens.get(refreshToken);
      state.refreshTokens.delete(refreshToken); // single use, whatever happens next
      if (!old || !state.live(old) || !state.provider.expiringTokens) {
        return fail("bad_refresh_token", "The refresh token passed is incorrect or expired.");
      }
      return answer(issue(old.scopes, old.user));
    }
    const code = params.get("code") ?? "";
    const grant = state.codes.get(code);
    state.codes.delete(code); // single use, whatever happens next
    if (!grant || grant.expires < Date.now()) {
      return fail("bad_verification_code", "The code passed is incorrect or expired.");
    }
    const redirectUri = params.get("redirect_uri");
    if (redirectUri !== null && redirectUri !== grant.redirectUri) {
      return fail(
        "redirect_uri_mismatch",
        "The redirect_uri MUST match the registered callback URL for this application.",
      );
    }
    if (grant.codeChallenge !== null) {
      const verifier = params.get("code_verifier") ?? "";
      if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier)) {
        return fail(
          "bad_verification_code",
          verifier === ""
            ? "The code_verifier is missing: this code was issued for a code_challenge."
            : "The code_verifier is malformed: RFC 7636 wants 43 to 128 characters of A-Z, a-z, 0-9 and -._~.",
        );
      }
      if (await calculatePKCECodeChallenge(verifier) !== grant.codeChallenge) {
        return fail(
          "bad_verification_code",
          "The code_verifier does not match the code_challenge.",
        );
      }
    }
    return answer(issue(grant.scopes, grant.user));
  };

  /** A new token (pair, in expiring mode) as the token endpoint answers it. */
  const issue = (scopes: string[], user: DevUser): Record<string, string | number> =>
    issueToken(state, { scopes, user });

  return { authorize, decide, accessToken, issue };
}

function matchesRegisteredCallback(uri: string, callback: string): boolean {
  try {
    const url = new URL(uri);
    const registered = new URL(callback);
    // GitHub's loopback rule: same scheme, host and path; any port, unless the
    // registration names one (as providers that demand the exact URI do).
    return url.protocol === registered.protocol && url.hostname === registered.hostname &&
      url.pathname === registered.pathname &&
      (registered.port === "" || url.port === registered.port);
  } catch {
    return false;
  }
}
