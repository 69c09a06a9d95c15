// Minimal harness: static server with a strict CSP, Debian chromium through
// playwright-core, axe-core injection, and a tiny test registry.
import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
export const uiDir = path.resolve(here, "../..");
export const distDir = path.join(uiDir, "dist-mock");
export const shotDir = path.resolve(uiDir, "../docs/screenshots");

// The CSP the Tauri shell should set as well (see ui/README.md).
export const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
  "connect-src 'self' ipc: http://ipc.localhost; font-src 'self'; object-src 'none'; base-uri 'none'; " +
  "form-action 'none'; frame-ancestors 'none'";

const TYPES = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png" };

export function serve() {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, "http://x");
    let p = path.normalize(path.join(distDir, decodeURIComponent(url.pathname)));
    if (!p.startsWith(distDir)) return res.writeHead(403).end();
    if (fs.existsSync(p) && fs.statSync(p).isDirectory()) p = path.join(p, "index.html");
    if (!fs.existsSync(p)) return res.writeHead(404).end();
    res.writeHead(200, {
      "content-type": TYPES[path.extname(p)] ?? "application/octet-stream",
      "content-security-policy": CSP,
      "cache-control": "no-store",
    });
    fs.createReadStream(p).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

export async function launch() {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "ident-chromium-"));
  const exe = process.env.CHROMIUM ?? "/usr/bin/chromium";
  if (!fs.existsSync(exe)) throw new Error(`${exe} missing: apt-get install -y chromium`);
  // playwright-core refuses --user-data-dir for launch(); it gives every launch a
  // fresh temporary profile of its own, which is what we want. Temp files go to ours.
  const browser = await chromium.launch({
    env: { ...process.env, TMPDIR: userDataDir },
    executablePath: exe,
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
  return { browser, cleanup: () => fs.rmSync(userDataDir, { recursive: true, force: true }) };
}

export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 800 };

const axeSource = fs.readFileSync(path.join(uiDir, "node_modules/axe-core/axe.min.js"), "utf8");

/** Runs axe-core; returns serious/critical violations as strings. */
export async function axeCheck(page) {
  const has = await page.evaluate(() => typeof window.axe !== "undefined");
  if (!has) await page.evaluate(axeSource + "\n;0");
  const result = await page.evaluate(async () => {
    const r = await window.axe.run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] },
      resultTypes: ["violations"],
    });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 3) }));
  });
  return result;
}

const tests = [];
export function test(name, fn) {
  tests.push({ name, fn });
}
export async function runAll(ctx) {
  let passed = 0;
  let failed = 0;
  const only = process.env.ONLY;
  for (const t of tests) {
    if (only && !t.name.includes(only)) continue;
    const start = Date.now();
    try {
      await t.fn(ctx);
      passed++;
      console.log(`ok   ${t.name} (${Date.now() - start} ms)`);
    } catch (e) {
      failed++;
      console.log(`FAIL ${t.name}\n     ${String(e?.stack ?? e).split("\n").slice(0, 6).join("\n     ")}`);
    }
  }
  return { passed, failed };
}
export function assert(cond, msg) {
  if (!cond) throw new Error(`assertion failed: ${msg}`);
}
