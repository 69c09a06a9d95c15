// The pieces the portal tests share: the running demo (its facts file),
// Debian's Chromium through playwright-core, axe-core, screenshots, the
// `ident` CLI as the phone, the SMS outbox, the SMTP server's Maildir and the
// relying-party API (to add test users). scripts/portal-e2e starts the
// server and the SMTP sink and sets the environment read here.
import { execFile } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
export const shotDir = path.resolve(here, "../../docs/screenshots");

function need(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run scripts/portal-e2e)`);
  return v;
}

/** Parses the demo's facts file: shell-quoted `NAME='value'` lines. */
export function readFacts(file) {
  const facts = {};
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (!m) continue;
    // 'abc'\''def' → abc'def
    let value = "";
    const re = /'([^']*)'|\\(.)/g;
    let part;
    while ((part = re.exec(m[2])) !== null) value += part[1] ?? part[2];
    facts[m[1]] = value;
  }
  return facts;
}

export const facts = readFacts(need("PORTAL_E2E_FACTS"));
export const base = facts.IDENT_URL;
export const portal = `${base}/portal`;
export const smsOutbox = facts.IDENT_SMS_OUTBOX;
export const maildir = need("PORTAL_E2E_MAILDIR");
export const workDir = need("PORTAL_E2E_DIR");
const identBin = need("IDENT_CLI_BIN");

/** The demo's users by login: {login, role, name, password}. */
export const demoUsers = {};
for (let i = 0; i < Number(facts.IDENT_USER_COUNT ?? 0); i++) {
  const u = {
    login: facts[`IDENT_USER_${i}_LOGIN`],
    role: facts[`IDENT_USER_${i}_ROLE`],
    name: facts[`IDENT_USER_${i}_NAME`],
    password: facts[`IDENT_USER_${i}_PASSWORD`],
  };
  demoUsers[u.login] = u;
}

// ---------------------------------------------------------------- waiting

/** Polls `fn` until it returns a truthy value; fails after `timeout` ms. */
export async function until(what, fn, { timeout = 15000, every = 100 } = {}) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeout} ms waiting for ${what}${last ? `: ${last.message}` : ""}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

export function assert(cond, msg) {
  if (!cond) throw new Error(`assertion failed: ${msg}`);
}

// ---------------------------------------------------------------- browser

export async function launch() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ident-portal-chromium-"));
  const exe = process.env.CHROMIUM ?? "/usr/bin/chromium";
  if (!fs.existsSync(exe)) throw new Error(`${exe} missing: apt-get install -y chromium`);
  const browser = await chromium.launch({
    env: { ...process.env, TMPDIR: tmp },
    executablePath: exe,
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
  return { browser, cleanup: () => fs.rmSync(tmp, { recursive: true, force: true }) };
}

export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 800 };

const axeSource = fs.readFileSync(path.join(here, "node_modules/axe-core/axe.min.js"), "utf8");

/** Every axe run: {label, bad, total, ids}; printed at the end. */
export const a11y = [];

/**
 * Runs axe-core on the page (injected through the DevTools protocol, so the
 * portal's CSP is not in the way) and fails on serious or critical findings.
 */
export async function axe(page, label) {
  if (!(await page.evaluate(() => typeof window.axe !== "undefined"))) await page.evaluate(axeSource + "\n;0");
  const violations = await page.evaluate(async () => {
    const r = await window.axe.run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] },
      resultTypes: ["violations"],
    });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 3) }));
  });
  const bad = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  a11y.push({ label, bad: bad.length, total: violations.length, ids: violations.map((v) => `${v.id}(${v.impact})`) });
  assert(bad.length === 0, `axe ${label}: ${JSON.stringify(bad, null, 1)}`);
}

export const SHOTS = process.env.SHOTS !== "0";
export const shots = [];

/**
 * Screenshots the page as portal-<name>-<size>.png: what the screen shows
 * (from the top, or with `scrollTo` in view); `full`: the whole page at
 * desktop size.
 */
export async function shoot(page, name, { sizes = ["phone", "desktop"], full = false, scrollTo } = {}) {
  if (!SHOTS) return;
  const before = page.viewportSize();
  for (const size of sizes) {
    await page.setViewportSize(size === "phone" ? PHONE : DESKTOP);
    // Layout settles, the spinner's animation frame is irrelevant.
    if (scrollTo) await page.locator(scrollTo).scrollIntoViewIfNeeded();
    else await page.evaluate(() => window.scrollTo(0, 0));
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const file = path.join(shotDir, `portal-${name}-${size}.png`);
    await page.screenshot({ path: file, fullPage: full && size === "desktop", animations: "disabled", caret: "hide" });
    shots.push(path.basename(file));
  }
  await page.setViewportSize(before);
}

/**
 * A fresh browser (own cookies) with a page that records console errors, CSP
 * violations and unexpected HTTP errors; `page.finish()` closes it and fails
 * on any of them. `page.allow(status, urlPart)` expects one.
 */
export async function open(browser, { lang = "de", viewport = DESKTOP } = {}) {
  const context = await browser.newContext({
    viewport,
    locale: lang === "en" ? "en-US" : "de-DE",
    timezoneId: "Europe/Berlin",
    deviceScaleFactor: 1,
    userAgent: "Mozilla/5.0 (X11; Linux x86_64) Chrome/140 Portal-E2E",
  });
  const page = await context.newPage();
  const problems = [];
  const allowed = [];
  page.on("console", (m) => {
    if (m.type() === "error" && !allowed.some((a) => m.text().includes(String(a.status)))) problems.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e}`));
  page.on("response", (r) => {
    if (r.status() >= 400 && !allowed.some((a) => a.status === r.status() && r.url().includes(a.url))) problems.push(`${r.status()} ${r.url()}`);
  });
  page.allow = (status, url) => allowed.push({ status, url });
  page.problems = problems;
  page.finish = async () => {
    await context.close();
    assert(problems.length === 0, `console errors / CSP violations / HTTP errors: ${problems.join(" | ")}`);
  };
  if (lang === "en") {
    await page.goto(`${portal}/lang/en?back=/portal/login`);
  }
  return page;
}

/** The page's path (without the origin). */
export const pathOf = (page) => new URL(page.url()).pathname;

export async function waitForPath(page, p, timeout = 15000) {
  await page.waitForURL((u) => u.pathname === p, { timeout });
}

// ---------------------------------------------------------------- API

/** Calls the relying-party API with the demo's key (optionally as a user). */
export async function api(method, p, body, actor) {
  const headers = { authorization: `Bearer ${facts.IDENT_API_KEY}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (actor) headers["ident-actor"] = actor;
  const r = await fetch(`${base}${p}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  if (!r.ok) throw new Error(`${method} ${p}: ${r.status} ${text.slice(0, 300)}`);
  return json;
}

let userSeq = 0;
// Names for the test customers (they show up in the screenshots).
const NAMES = ["Jonas Hoffmann", "Lea Wagner", "Paul Schneider", "Sophie Fischer", "Lukas Becker", "Marie Schäfer", "Felix Koch", "Emma Richter", "Leon Wolf", "Hannah Neumann"];
/**
 * A new customer of the demo broker (1000), made through the API, so that a
 * test does not depend on what others did to the demo users.
 */
export async function newCustomer({ phone = true, name } = {}) {
  userSeq++;
  const display = name ?? NAMES[(userSeq - 1) % NAMES.length];
  const slug = display.toLowerCase().replace(/ä/g, "ae").replace(/ö/g, "oe").replace(/ü/g, "ue").replace(/ß/g, "ss").replace(/[^a-z]+/g, ".");
  const login = `${slug}${userSeq > NAMES.length ? userSeq : ""}@example.de`;
  const password = `Test-${crypto.randomBytes(9).toString("base64url")}`;
  // A distinct German mobile number per user: +49 151 5xxxxxxx.
  const number = phone ? `+49 151 5${String(crypto.randomInt(0, 9999999)).padStart(7, "0")}` : undefined;
  await api("POST", "/api/v1/users", {
    login,
    display_name: display,
    role: "customer",
    broker: "1000",
    email: login,
    password,
    ...(number ? { phone: number } : {}),
  });
  return { login, password, phone: number?.replace(/\s/g, ""), name: display };
}

// ---------------------------------------------------------------- SMS

/** The SMS sent to `phone` (E.164) since `from` lines, newest last. */
export function smsTo(phone) {
  if (!fs.existsSync(smsOutbox)) return [];
  return fs
    .readFileSync(smsOutbox, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .filter((m) => m.to === phone);
}

/** Waits for an SMS to `phone` beyond the `seen` ones and returns its 6-digit code. */
export async function nextSmsCode(phone, seen) {
  const msg = await until(`an SMS to ${phone}`, () => {
    const all = smsTo(phone);
    return all.length > seen ? all[all.length - 1] : null;
  });
  const m = /\b(\d{3}) ?(\d{3})\b/.exec(msg.text);
  assert(m, `no 6-digit code in the SMS: ${msg.text}`);
  return m[1] + m[2];
}

// ---------------------------------------------------------------- Maildir

/** The mails aiosmtpd stored, decoded by Python's email package. */
export function readMaildir() {
  const script = `
import email, email.policy, json, os, sys
out = []
root = sys.argv[1]
for sub in ("new", "cur"):
    d = os.path.join(root, sub)
    if not os.path.isdir(d):
        continue
    for name in sorted(os.listdir(d)):
        with open(os.path.join(d, name), "rb") as f:
            m = email.message_from_binary_file(f, policy=email.policy.default)
        body = m.get_body(preferencelist=("plain",))
        out.append({
            "to": str(m.get("To", "")), "from": str(m.get("From", "")),
            "reply_to": str(m.get("Reply-To", "")), "subject": str(m.get("Subject", "")),
            "rcpt": str(m.get("X-RcptTo", "")), "cc": m.get("Cc") is not None or m.get("Bcc") is not None,
            "body": body.get_content() if body is not None else "",
        })
print(json.dumps(out))
`;
  return new Promise((resolve, reject) => {
    execFile("python3", ["-c", script, maildir], { maxBuffer: 32 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`reading the Maildir: ${stderr || err.message}`));
      else resolve(JSON.parse(stdout));
    });
  });
}

// ---------------------------------------------------------------- the phone

export const PIN = "582047";

function cli(vault, args, stdinLines, { timeout = 30000 } = {}) {
  return new Promise((resolve) => {
    const child = execFile(
      identBin,
      ["--vault", vault, "--json", "--pin-stdin", ...args],
      { timeout, env: { ...process.env, IDENT_TEST_FAST_KDF: "1", IDENT_LANG: "de" } },
      (err, stdout, stderr) => {
        let json = null;
        try {
          json = JSON.parse(stdout);
        } catch {
          /* not JSON */
        }
        resolve({ code: err ? (err.code ?? 1) : 0, json, stdout, stderr });
      },
    );
    child.stdin.end(stdinLines.map((l) => `${l}\n`).join(""));
  });
}

/** The `ident` CLI with a vault of its own: the phone of one user. */
export class Phone {
  constructor(name) {
    this.dir = fs.mkdtempSync(path.join(workDir, `phone-${name}-`));
    this.vault = path.join(this.dir, "vault.db");
  }

  async run(args, extra = []) {
    const r = await cli(this.vault, args, [PIN, ...extra]);
    if (r.code !== 0) throw new Error(`ident ${args.join(" ")} → exit ${r.code}: ${r.stdout}${r.stderr}`);
    return r.json;
  }

  async init() {
    return this.run(["init"]);
  }

  async enrollQr(image) {
    return this.run(["enroll", "--qr", image, "--name", "Testhandy"]);
  }

  /**
   * Waits (long poll) for a login request of `login` and returns the newest
   * (an older one, e.g. left open by a switch to SMS, stays pending on the
   * phone until it expires).
   */
  async request(login, timeout = 20000) {
    const end = Date.now() + timeout;
    for (;;) {
      const left = Math.ceil((end - Date.now()) / 1000);
      if (left <= 0) throw new Error(`no login request for ${login} on the phone within ${timeout} ms`);
      const r = await this.run(["pending", "--wait", String(Math.min(left, 10))]);
      const mine = (r?.challenges ?? []).filter((x) => x.login === login).sort((a, b) => b.issued_at - a.issued_at);
      if (mine.length) return mine[0];
    }
  }

  async answer(id, decision, { number, reason } = {}) {
    const args = ["answer", id, decision];
    if (number !== undefined) args.push("--number", String(number));
    if (reason) args.push("--reason", reason);
    return this.run(args);
  }
}

// ---------------------------------------------------------------- tests

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
      console.log(`FAIL ${t.name}\n     ${String(e?.stack ?? e).split("\n").slice(0, 8).join("\n     ")}`);
    }
  }
  return { passed, failed };
}
