import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { CLOSE_SCRIPT, CLOSE_SCRIPT_HASH, pageResponse, renderPage } from "../../lib/core/pages.ts";

Deno.test("the success page's CSP admits exactly its own script", async () => {
  const hash = createHash("sha256").update(CLOSE_SCRIPT).digest("base64");
  assert.equal(CLOSE_SCRIPT_HASH, `'sha256-${hash}'`);
  const html = renderPage({ kind: "success", title: "Logged in", message: "Return." });
  assert.ok(html.includes(`<script>${CLOSE_SCRIPT}</script>`));
  const response = pageResponse(200, { kind: "success", title: "t", message: "m" });
  assert.match(
    response.headers.get("content-security-policy")!,
    new RegExp(`script-src ${CLOSE_SCRIPT_HASH}$`),
  );
  await response.body?.cancel();
  const error = renderPage({ kind: "error", title: "<b>", message: "x" });
  assert.ok(!error.includes("<script>"), "error pages run no script");
  assert.ok(error.includes("&lt;b&gt;"));
});
