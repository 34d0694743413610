/**
 * How the built-in provider answers: tokens, JSON, and its small HTML pages.
 * @module
 */
import { parseJsonObject } from "../core/json.ts";
import { escapeHtml } from "../core/text.ts";
import { SECURITY_HEADERS } from "../core/pages.ts";

/** A random token of `length` letters and digits after `prefix` (`gho_`, `ghr_`, …). */
export function randomToken(prefix: string, length: number): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  return prefix + Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("");
}

/** A JSON object from a body, or `{}` for anything else. */
export function safeJson(text: string): Record<string, unknown> {
  return parseJsonObject(text) ?? {};
}

/** A JSON API answer, with the headers GitHub's API sends on every answer. */
export function apiJson(
  status: number,
  data: unknown,
  headers: Record<string, string> = {},
): Response {
  return Response.json(data, {
    status,
    headers: {
      ...SECURITY_HEADERS,
      "Content-Type": "application/json; charset=utf-8",
      "X-GitHub-Media-Type": "github.v3; format=json",
      "X-GitHub-Api-Version-Selected": "2022-11-28",
      "X-GitHub-Request-Id": randomToken("", 16),
      ...headers,
    },
  });
}

/** Where GitHub's API errors point by default. */
export const REST_DOCS = "https://docs.github.com/rest";

/**
 * A JSON API error as GitHub sends it: `{"message", "documentation_url",
 * "status"}`, never HTML.
 *
 * @example
 * ```ts
 * import { apiError } from "./responses.ts";
 * await apiError(404, "Not Found").json(); // { message: "Not Found", documentation_url: "https://docs.github.com/rest", status: "404" }
 * ```
 */
export function apiError(
  status: number,
  message: string,
  options: { documentationUrl?: string; headers?: Record<string, string> } = {},
): Response {
  return apiJson(status, {
    message,
    documentation_url: options.documentationUrl ?? REST_DOCS,
    status: String(status),
  }, options.headers);
}

/** A small page of the provider (consent, device activation), with a strict CSP. */
export function html(status: number, title: string, content: string): Response {
  const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)} · loopauth dev server</title>
<style>
:root{color-scheme:light dark}body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem}
button{font:inherit;padding:.5rem 1.2rem;border-radius:6px;border:1px solid #1f883d;background:#1f883d;color:#fff;cursor:pointer;margin-right:.5rem}
button.secondary{background:transparent;color:inherit;border-color:#8c959f}
</style></head>
<body><main><h1>${escapeHtml(title)}</h1>${content}</main></body></html>
`;
  return new Response(page, {
    status,
    headers: {
      ...SECURITY_HEADERS,
      "Content-Security-Policy":
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' http://127.0.0.1:*; frame-ancestors 'none'",
      "Content-Type": "text/html; charset=utf-8",
    },
  });
}
