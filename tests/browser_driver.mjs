// Drives Debian's Chromium with playwright-core under Node (under Deno,
// playwright-core reads /proc/sys at import, which Deno grants only with
// --allow-all). Usage: node tests/browser_driver.mjs URL authorize|cancel SCREENSHOT_DIR [light|dark]
// Prints one JSON line: what the user saw.
import { createRequire } from "node:module";
import { mkdirSync } from "node:fs";

const require = createRequire(new URL("../.tools/package.json", import.meta.url));
const { chromium } = require("playwright-core");
const [url, decision, shots, scheme = "light"] = process.argv.slice(2);
mkdirSync(shots, { recursive: true, mode: 0o755 });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
try {
  const context = await browser.newContext({
    colorScheme: scheme,
    viewport: { width: 800, height: 600 },
  });
  const page = await context.newPage();
  const consoleErrors = [];
  const failedRequests = [];
  page.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text()));
  page.on("pageerror", (e) => consoleErrors.push(e.message));
  page.on("requestfailed", (r) => failedRequests.push(`${r.url()} ${r.failure()?.errorText}`));
  await page.goto(url);
  const consent = await page.innerText("main");
  await page.screenshot({ path: `${shots}/consent-${scheme}.png` });
  const [response] = await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === "/callback"),
    page.click(`button[value=${decision}]`),
  ]);
  await page.waitForLoadState("load");
  await page.waitForTimeout(300); // let late errors (favicon, CSP) surface
  const result = {
    consent,
    status: response.status(),
    title: await page.title(),
    text: await page.innerText("main"),
    lang: await page.getAttribute("html", "lang"),
    landmarks: await page.locator("main, h1").count(),
    csp: response.headers()["content-security-policy"],
    consoleErrors,
    failedRequests,
  };
  await page.screenshot({ path: `${shots}/${decision}-${scheme}.png` });
  console.log(JSON.stringify(result));
} finally {
  await browser.close();
}
