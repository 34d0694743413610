/**
 * The small self-contained pages the callback server answers with, and the
 * security headers every answer carries.
 * @module
 */
import { escapeHtml } from "./text.ts";

/** What a page says. */
export interface Page {
  /** Short heading, also the tab title. */
  title: string;
  /** One or two sentences under the heading. */
  message: string;
  /** `success` draws a check mark, `error` a cross. */
  kind: "success" | "error";
  /** The app's name in the tab title and the footer (default `loopauth`). */
  brand?: string;
}

/**
 * Headers for every answer of a loopback server: nothing cached, no referrer
 * leaking the code, nothing loaded from elsewhere, no framing.
 *
 * @example
 * ```ts
 * import { SECURITY_HEADERS } from "./pages.ts";
 * new Response("ok", { headers: SECURITY_HEADERS });
 * ```
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "Cache-Control": "no-store",
  "Referrer-Policy": "no-referrer",
  "Content-Security-Policy":
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
  "X-Content-Type-Options": "nosniff",
};

const STYLE = `
:root{color-scheme:light dark;--fg:#1f2328;--bg:#f6f8fa;--card:#fff;--ok:#1a7f37;--bad:#cf222e;--muted:#59636e}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--bg:#0d1117;--card:#161b22;--ok:#3fb950;--bad:#f85149;--muted:#9198a1}}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;background:var(--bg);color:var(--fg);display:grid;place-items:center;min-height:100vh}
main{background:var(--card);padding:2rem 2.5rem;border-radius:12px;max-width:32rem;box-shadow:0 1px 3px #0003;text-align:center}
h1{font-size:1.3rem;margin:.5rem 0}p{margin:.5rem 0;color:var(--muted)}
.icon{font-size:2.5rem;line-height:1}.success{color:var(--ok)}.error{color:var(--bad)}
footer{position:fixed;bottom:1rem;width:100%;text-align:center;font-size:.8rem;color:var(--muted)}`;

/**
 * The success page tries to close its tab (browsers allow it only for tabs
 * a script opened); the CSP admits exactly this script by its hash.
 */
export const CLOSE_SCRIPT = "setTimeout(function(){window.close()},1500)";
/**
 * `'sha256-…'` of {@linkcode CLOSE_SCRIPT}, written out so no hashing (and
 * no node:crypto) happens at start-up; tests/unit/pages_test.ts checks it.
 */
export const CLOSE_SCRIPT_HASH = "'sha256-scsKFf1cqgGjrcpQewB0Bu61NgDnvJG3xbogAqGThZ0='";

/**
 * Renders a page; every piece of text is HTML-escaped.
 *
 * @example
 * ```ts
 * import { renderPage } from "./pages.ts";
 * const html = renderPage({ kind: "success", title: "Logged in", message: "Return to the terminal." });
 * ```
 */
export function renderPage(page: Page): string {
  const icon = page.kind === "success" ? "✓" : "✕";
  const script = page.kind === "success" ? `<script>${CLOSE_SCRIPT}</script>` : "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${escapeHtml(page.title)} · ${
    escapeHtml(page.brand ?? "loopauth")
  }</title><style>${STYLE}</style></head>
<body><main>
<div class="icon ${page.kind}" aria-hidden="true">${icon}</div>
<h1>${escapeHtml(page.title)}</h1>
<p>${escapeHtml(page.message)}</p>
</main>
<footer>${escapeHtml(page.brand ?? "loopauth")}</footer>${script}</body></html>
`;
}

/**
 * An HTML response with the security headers and `Connection: close`, so the
 * browser does not keep the loopback connection open.
 *
 * @example
 * ```ts
 * import { pageResponse } from "./pages.ts";
 * const response = pageResponse(404, { kind: "error", title: "Not found", message: "Nothing here." });
 * ```
 */
export function pageResponse(
  status: number,
  page: Page,
  headers: Record<string, string> = {},
): Response {
  return new Response(renderPage(page), {
    status,
    headers: {
      ...SECURITY_HEADERS,
      ...(page.kind === "success"
        ? {
          "Content-Security-Policy": `${
            SECURITY_HEADERS["Content-Security-Policy"]
          }; script-src ${CLOSE_SCRIPT_HASH}`,
        }
        : {}),
      "Content-Type": "text/html; charset=utf-8",
      "Connection": "close",
      ...headers,
    },
  });
}
