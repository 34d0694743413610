/**
 * The parameters of a request to the built-in provider's OAuth endpoints, as
 * GitHub reads them: the query, then a form or JSON body (Octokit sends
 * JSON), then client credentials from HTTP Basic auth; and the answer in the
 * format the `Accept` header asks for.
 * @module
 */
import { SECURITY_HEADERS } from "../core/pages.ts";
import { safeJson } from "./responses.ts";

/**
 * The request's parameters: query, body (JSON when it says so or looks like
 * it, else a form), and Basic `client_id:client_secret` (RFC 6749 §2.3.1).
 *
 * @example
 * ```ts
 * import { oauthParams } from "./params.ts";
 * const request = new Request("http://127.0.0.1/login/device/code", { method: "POST" });
 * oauthParams(request, '{"client_id":"abc","scope":["repo","gist"]}').get("scope"); // "repo gist"
 * ```
 */
export function oauthParams(request: Request, body: string): URLSearchParams {
  const params = new URLSearchParams(new URL(request.url).search);
  const type = request.headers.get("content-type") ?? "";
  const json = type.includes("json") ||
    (!type.includes("form") && body.trimStart().startsWith("{"));
  const parsed = json ? safeJson(body) : Object.fromEntries(new URLSearchParams(body));
  for (const [key, value] of Object.entries(parsed)) {
    if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") {
      params.set(key, String(value));
    } else if (Array.isArray(value)) {
      params.set(key, value.map(String).join(" ")); // e.g. "scope": ["repo", "gist"]
    }
  }
  const basic = basicCredentials(request);
  if (basic) {
    params.set("client_id", formDecode(basic.user));
    params.set("client_secret", formDecode(basic.password));
  }
  return params;
}

/** RFC 6749 §2.3.1 form-encodes the id and secret before Basic auth. */
function formDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * The user and password of an `Authorization: Basic` header, or `undefined`.
 *
 * @example
 * ```ts
 * import { basicCredentials } from "./params.ts";
 * const request = new Request("http://127.0.0.1/", { headers: { authorization: `Basic ${btoa("id:secret")}` } });
 * basicCredentials(request); // { user: "id", password: "secret" }
 * ```
 */
export function basicCredentials(request: Request): { user: string; password: string } | undefined {
  const basic = /^basic\s+(\S+)$/i.exec(request.headers.get("authorization") ?? "");
  if (!basic) return undefined;
  try {
    const text = new TextDecoder().decode(Uint8Array.from(atob(basic[1]), (c) => c.charCodeAt(0)));
    const at = text.indexOf(":");
    if (at < 0) return { user: text, password: "" };
    return { user: text.slice(0, at), password: text.slice(at + 1) };
  } catch {
    return undefined; // not base64
  }
}

/**
 * An OAuth endpoint's answer: JSON when `Accept` asks for it, else (as on
 * GitHub) a form-encoded body.
 *
 * @example
 * ```ts
 * import { oauthAnswer } from "./params.ts";
 * const request = new Request("http://127.0.0.1/login/device/code");
 * await oauthAnswer(request, { error: "slow_down" }, { status: 400 }).text(); // "error=slow_down"
 * ```
 */
export function oauthAnswer(
  request: Request,
  data: Record<string, string | number>,
  options: { status?: number } = {},
): Response {
  const status = options.status ?? 200;
  if ((request.headers.get("accept") ?? "").includes("application/json")) {
    return Response.json(data, { status, headers: SECURITY_HEADERS });
  }
  return new Response(
    new URLSearchParams(Object.entries(data).map(([k, v]) => [k, String(v)])).toString(),
    {
      status,
      headers: {
        ...SECURITY_HEADERS,
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
      },
    },
  );
}
