/**
 * The built-in provider's device flow (RFC 8628, GitHub's variant): codes,
 * the activation page, and the token endpoint's device-grant polls. The
 * protected MCP server's authorization server (`dev/mcp.ts`) uses the same,
 * with its own clients and RFC 6749's error codes.
 * @module
 */
import { escapeHtml } from "../core/text.ts";
import { CSRF_FIELD, type FormTokens } from "./form_tokens.ts";
import { oauthAnswer, oauthParams } from "./params.ts";
import { html, randomToken } from "./responses.ts";
import type { DevProvider } from "./types.ts";

/** What the device endpoints read of their server (the dev provider is one). */
export type DeviceHost = Pick<DevProvider, "origin" | "deviceFlowDisabled" | "forceSlowDown">;

/** The device authorization request a code was issued for. */
export interface DeviceRequest {
  /** The client that asked. */
  clientId: string;
  /** The request's parameters (`scope`, `resource`, …). */
  params: URLSearchParams;
}

/** Most device codes waiting at once: the oldest go first. */
const MAX_GRANTS = 1_000;

interface DeviceAuthorization {
  request: DeviceRequest;
  userCode: string;
  scopes: string[];
  expires: number;
  /** Milliseconds the client must wait between polls. */
  interval: number;
  lastPoll?: number;
  decision?: "authorize" | "cancel";
}

/** The device endpoints of {@linkcode deviceEndpoints}. */
export interface DeviceEndpoints {
  /** `POST /login/device/code`. */
  code(request: Request, body: string): Promise<Response>;
  /** A device-grant poll of the token endpoint: its answer. */
  poll(request: Request, params: URLSearchParams): Promise<Record<string, string | number>>;
  /** `GET /login/device`: the page where the user enters the code. */
  page(url: URL): Response;
  /** `POST /login/device`: the user's decision. */
  decide(body: string): Response;
}

/** Options of {@linkcode deviceEndpoints}. */
export interface DeviceEndpointOptions {
  interval: number;
  expiresIn: number;
  slowDownIncrement: number;
  complete: boolean;
  /** The CSRF tokens of the device page's form. */
  forms: FormTokens;
  /** Who the page says is signing in. */
  appName: () => string;
  /**
   * The client a request comes from, authenticated; `undefined` refuses it
   * with `unknownClient` (default GitHub's `incorrect_client_credentials`).
   */
  client: (request: Request, params: URLSearchParams) => Promise<string | undefined>;
  unknownClient?: string;
  /** The token answer for an approved code. */
  issue: (scopes: string[], request: DeviceRequest) => Record<string, string | number>;
}

/** GitHub's device flow (RFC 8628) for the dev provider. */
export function deviceEndpoints(
  provider: DeviceHost,
  options: DeviceEndpointOptions,
): DeviceEndpoints {
  const unknownClient = options.unknownClient ?? "incorrect_client_credentials";
  const grants = new Map<string, DeviceAuthorization>();
  const byUserCode = new Map<string, string>();
  const fail = (error: string, description: string) => ({
    error,
    error_description: description,
    error_uri:
      "https://docs.github.com/developers/apps/authorizing-oauth-apps#error-codes-for-the-device-flow",
  });
  const forget = (deviceCode: string) => {
    byUserCode.delete(grants.get(deviceCode)?.userCode ?? "");
    grants.delete(deviceCode);
  };
  const find = (userCode: string) => {
    const deviceCode = byUserCode.get(userCode.trim().toUpperCase()) ?? "";
    const grant = grants.get(deviceCode);
    return grant && grant.expires > Date.now() && !grant.decision ? grant : undefined;
  };
  return {
    async code(request: Request, body: string): Promise<Response> {
      // Form or JSON (Octokit sends JSON), answered as Accept asks.
      const params = oauthParams(request, body);
      const json = (status: number, data: Record<string, string | number>) =>
        oauthAnswer(request, data, { status });
      const clientId = await options.client(request, params);
      if (clientId === undefined) {
        return json(400, fail(unknownClient, "The client_id is not valid."));
      }
      if (provider.deviceFlowDisabled) {
        return json(
          400,
          fail("device_flow_disabled", "Device Flow must be explicitly enabled for this App"),
        );
      }
      const deviceCode = randomToken("", 40);
      const letters = "BCDFGHJKLMNPQRSTVWXZ";
      const bytes = crypto.getRandomValues(new Uint8Array(8));
      const chars = Array.from(bytes, (b) => letters[b % letters.length]).join("");
      const userCode = `${chars.slice(0, 4)}-${chars.slice(4)}`;
      grants.set(deviceCode, {
        request: { clientId, params },
        userCode,
        scopes: (params.get("scope") ?? "").split(/[\s,]+/).filter(Boolean),
        expires: Date.now() + options.expiresIn * 1000,
        interval: options.interval * 1000,
      });
      byUserCode.set(userCode, deviceCode);
      while (grants.size > MAX_GRANTS) forget(grants.keys().next().value!);
      const verificationUri = `${provider.origin}/login/device`;
      return json(200, {
        device_code: deviceCode,
        user_code: userCode,
        verification_uri: verificationUri,
        ...(options.complete
          ? { verification_uri_complete: `${verificationUri}?user_code=${userCode}` }
          : {}),
        expires_in: options.expiresIn,
        interval: options.interval,
      });
    },

    async poll(
      request: Request,
      params: URLSearchParams,
    ): Promise<Record<string, string | number>> {
      const clientId = await options.client(request, params);
      if (clientId === undefined) return fail(unknownClient, "The client_id is not valid.");
      const deviceCode = params.get("device_code") ?? "";
      const grant = grants.get(deviceCode);
      // Another client's code is no code of this one.
      if (!grant || grant.request.clientId !== clientId) {
        return fail("incorrect_device_code", "The device_code provided is not valid.");
      }
      const now = performance.now();
      if (grant.expires < Date.now()) {
        forget(deviceCode);
        return fail("expired_token", "The device_code has expired.");
      }
      // A few ms of slack: timers are not exact, but a client that ignores
      // the interval is far faster than this.
      const early = grant.lastPoll !== undefined && now - grant.lastPoll < grant.interval - 5;
      grant.lastPoll = now;
      if (early || provider.forceSlowDown > 0) {
        if (!early) provider.forceSlowDown--;
        grant.interval += options.slowDownIncrement * 1000;
        return {
          ...fail("slow_down", "Too many requests have been made in the same timeframe."),
          interval: String(grant.interval / 1000),
        };
      }
      if (grant.decision === "cancel") {
        forget(deviceCode);
        return fail("access_denied", "The authorization request was denied.");
      }
      if (grant.decision !== "authorize") {
        return fail("authorization_pending", "The authorization request is still pending.");
      }
      forget(deviceCode); // single use
      return options.issue(grant.scopes, grant.request);
    },

    page(url: URL): Response {
      const prefilled = url.searchParams.get("user_code") ?? "";
      const csrf = options.forms.issue("device");
      return html(
        200,
        "Device activation",
        `
<p>Enter the code shown in your terminal to let <strong>${escapeHtml(options.appName())}</strong>
sign in on that device.</p>
<form method="post" action="/login/device">
<input type="hidden" name="${CSRF_FIELD}" value="${escapeHtml(csrf)}">
<p><input name="user_code" value="${escapeHtml(prefilled)}" placeholder="XXXX-XXXX"
autocomplete="off" autocapitalize="characters" required></p>
<button type="submit" name="decision" value="authorize">Authorize</button>
<button type="submit" name="decision" value="cancel" class="secondary">Cancel</button>
</form>`,
      );
    },

    decide(body: string): Response {
      const form = new URLSearchParams(body);
      const again = '<a href="/login/device">Enter the code again</a>';
      // A cross-site form has no token of this page: it approves nothing.
      if (!options.forms.take("device", form.get(CSRF_FIELD))) {
        return html(
          403,
          "Form expired",
          `<p>This form was used already, is too old, or was not sent from this server's page. ${again}.</p>`,
        );
      }
      const grant = find(form.get("user_code") ?? "");
      if (!grant) {
        return html(
          404,
          "Code not found",
          `<p>The code is wrong, expired or already used. ${again}.</p>`,
        );
      }
      grant.decision = form.get("decision") === "authorize" ? "authorize" : "cancel";
      return grant.decision === "authorize"
        ? html(200, "Device authorized", "<p>Return to your terminal.</p>")
        : html(200, "Access denied", "<p>The device was not authorized.</p>");
    },
  };
}
