// Walks the reference portal in headless Chromium against a real
// `ident-server demo`, with the `ident` CLI as the phone: login, app setup by
// the page's QR image, push approval with the number, deny and "not me", the
// SMS fallback, the 2FA interval skip, a broker's customers page and a
// customer-mail campaign that arrives at a real SMTP server (aiosmtpd).
// Every page gets an axe-core check (serious/critical fail the run); the main
// pages are photographed at phone and desktop size into docs/screenshots/.
//
// Run through scripts/portal-e2e (it starts the server and the SMTP sink).
// ONLY=substring runs a subset; SHOTS=0 skips the screenshots.
import fs from "node:fs";
import path from "node:path";
import {
  a11y, api, assert, axe, demoUsers, launch, newCustomer, nextSmsCode, open, pathOf, Phone,
  portal, readMaildir, runAll, shoot, shotDir, shots, SHOTS, smsOutbox, smsTo, test, until, waitForPath, workDir,
} from "./harness.mjs";

const max = demoUsers["max.mustermann@example.de"];
const erika = demoUsers["erika.musterfrau@example.de"];
const broker = demoUsers["1000"];
const MAX_PHONE = "+491712345678";
const BROKER_PHONE = "+4915123456789";
const OTHER_BROKER_PHONE = "+4916099887766";

// ---------------------------------------------------------------- steps

/** Types login and password on the login page and waits for the next page. */
async function password(page, user) {
  if (pathOf(page) !== "/portal/login") await page.goto(`${portal}/login`);
  await page.locator("#login").fill(user.login);
  await page.locator("#password").fill(user.password);
  await Promise.all([page.waitForURL((u) => u.pathname !== "/portal/login"), page.locator("#login-submit").click()]);
  return pathOf(page);
}

/** On the SMS page: takes the newest code sent to `phone` and logs in. */
async function enterSms(page, phone, seen) {
  const code = await nextSmsCode(phone, seen);
  await page.locator("#code").fill(code);
  await Promise.all([page.waitForURL((u) => u.pathname !== "/portal/login/sms"), page.locator("#sms-submit").click()]);
}

/** Password and SMS code: for a user with a number and no app. */
async function smsLogin(page, user, phone) {
  const seen = smsTo(phone).length;
  const next = await password(page, user);
  assert(next === "/portal/login/sms", `${user.login} without app: SMS page expected, got ${next}`);
  await enterSms(page, phone, seen);
  await waitForPath(page, "/portal/");
}

async function logout(page) {
  await Promise.all([page.waitForURL((u) => u.pathname === "/portal/login"), page.locator("#logout").click()]);
  await page.locator("#login-notice").waitFor();
}

/**
 * "App einrichten": downloads the QR image the page shows (with this
 * browser's cookies), turns it into a PNG when it is an SVG, and enrolls
 * `phone` with `ident enroll --qr`. Checks the page confirms it by itself.
 */
async function enrollByQr(page, phone, user, { label } = {}) {
  await page.locator("#nav-setup").click();
  await waitForPath(page, "/portal/setup");
  const img = page.locator("#setup-qr");
  await img.waitFor();
  await until("the QR image to load", () => img.evaluate((i) => i.complete && i.naturalWidth > 0));
  if (label) {
    await axe(page, label);
    await shoot(page, label.replace(/ /g, "-"), { scrollTo: "#setup-status" });
  }
  const src = await img.getAttribute("src");
  const url = new URL(src, page.url()).toString();
  const res = await page.context().request.get(url);
  assert(res.status() === 200, `QR image ${res.status()}`);
  const type = res.headers()["content-type"] ?? "";
  const bytes = await res.body();
  // The image is this session's only: another browser gets nothing.
  const stranger = await page.context().browser().newContext();
  const other = await stranger.request.get(url, { maxRedirects: 0 });
  assert(other.status() !== 200, `another browser fetched the QR code (${other.status()})`);
  await stranger.close();

  const png = path.join(phone.dir, "qr.png");
  if (type.startsWith("image/png")) {
    fs.writeFileSync(png, bytes);
  } else {
    assert(type.startsWith("image/svg+xml"), `QR content type ${type}`);
    // Rasterize the SVG as a desktop user's image viewer would: at 480 px.
    const raster = await page.context().browser().newPage({ viewport: { width: 520, height: 520 } });
    await raster.setContent(
      `<body style="margin:0;background:#fff"><img id="q" width="480" height="480" src="data:image/svg+xml;base64,${bytes.toString("base64")}"></body>`,
    );
    await raster.locator("#q").screenshot({ path: png });
    await raster.close();
  }
  if (!fs.existsSync(phone.vault)) await phone.init();
  const enrolled = await phone.enrollQr(png);
  assert(enrolled.account?.kind === "push" && enrolled.account.login === user.login, `enrolled ${JSON.stringify(enrolled)}`);
  // The page sees it without a reload.
  const status = page.locator("#setup-status");
  const done = await status.getAttribute("data-text-completed");
  await until("the setup page to confirm the enrollment", async () => (await status.textContent()).trim() === done);
  // The used code disappears.
  assert(!(await img.isVisible()), "the QR code is hidden once the app is set up");
  return enrolled.account;
}

/** Password, then the push page: returns the number it shows. */
async function toPushPage(page, user) {
  const next = await password(page, user);
  assert(next === "/portal/login/push", `${user.login} with the app: push page expected, got ${next}`);
  const n = (await page.locator("#push-number").textContent()).trim();
  assert(/^\d{2,6}$/.test(n), `number on the push page: ${n}`);
  return n;
}

/** Shared state of the story tests (Max's phone). */
const story = {};

// ---------------------------------------------------------------- tests

test("Max: password → SMS code → App einrichten → QR decoded by the CLI → live confirmation", async ({ browser }) => {
  const page = await open(browser);
  await page.goto(`${portal}/`);
  await waitForPath(page, "/portal/login");
  await axe(page, "login de");
  await shoot(page, "login-de");
  // A wrong password: the neutral sentence, nothing revealed.
  page.allow(401, "/portal/login");
  await page.locator("#login").fill(max.login);
  await page.locator("#password").fill("falsch-falsch-falsch");
  await page.locator("#login-submit").click();
  const err = page.locator("#form-error");
  await err.waitFor();
  assert((await err.textContent()).trim() === "Loginname oder Passwort ist falsch.", `wrong password: ${await err.textContent()}`);
  assert((await page.locator("#password").inputValue()) === "", "password not filled back");
  await axe(page, "login error de");

  const seen = smsTo(MAX_PHONE).length;
  const next = await password(page, max);
  assert(next === "/portal/login/sms", `Max without app: SMS page, got ${next}`);
  const intro = await page.locator("#sms-intro").textContent();
  assert(/SMS/.test(intro) && !intro.includes("2345678"), `SMS intro shows the number masked: ${intro}`);
  await axe(page, "sms de");
  await shoot(page, "sms-de");
  await enterSms(page, MAX_PHONE, seen);
  await waitForPath(page, "/portal/");
  await page.locator("#page-title").waitFor();
  assert(/Max Mustermann/.test(await page.locator("#page-title").textContent()), "welcome names Max");
  assert(/nicht eingerichtet/i.test(await page.locator("#status-app").textContent()), `app not set up yet: ${await page.locator("#status-app").textContent()}`);
  await axe(page, "home customer de");
  await shoot(page, "home-customer-de");

  story.maxPhone = new Phone("max");
  await enrollByQr(page, story.maxPhone, max, { label: "setup de" });
  await shoot(page, "setup-done-de", { scrollTo: "#setup-status" });
  await page.locator("#nav-home").click();
  await waitForPath(page, "/portal/");
  assert(/eingerichtet/.test(await page.locator("#status-app").textContent()) && !/nicht/.test(await page.locator("#status-app").textContent()), "home: app set up");
  story.maxPage = page;
});

test("Max: log out and in again → push page shows the number → approved with the CLI → in without a reload", async ({ browser }) => {
  assert(story.maxPhone, "needs the enrollment test");
  const page = story.maxPage ?? (await open(browser));
  if (pathOf(page) !== "/portal/login") await logout(page);
  assert((await page.locator("#login-notice").textContent()).includes("abgemeldet"), "logged-out notice");
  const number = await toPushPage(page, max);
  await axe(page, "push de");
  await shoot(page, "push-de");
  // The countdown runs.
  const c1 = await page.locator("#push-countdown").textContent();
  await until("the countdown to move", async () => (await page.locator("#push-countdown").textContent()) !== c1, { timeout: 4000 });

  const req = await story.maxPhone.request(max.login);
  assert(req.service === "FondsKontor", `service ${req.service}`);
  assert(req.ip === "127.0.0.1", `ip ${req.ip}`);
  assert(/Portal-E2E/.test(req.user_agent ?? ""), `user agent ${req.user_agent}`);
  assert(req.number_required === true, "number required");
  // A wrong number is refused by the service and the page does not log in.
  const answered = await story.maxPhone.answer(req.id, "approve", { number });
  assert(answered.status === "approved", `answer ${JSON.stringify(answered)}`);
  await waitForPath(page, "/portal/", 10000);
  assert(/Max Mustermann/.test(await page.locator("#page-title").textContent()), "logged in as Max");
  await page.finish();
  story.maxPage = null;
});

test("deny and \"not me\": the wait page says so in one plain sentence; push is locked after \"not me\"", async ({ browser }) => {
  const user = await newCustomer();
  const phone = new Phone("deny");
  const page = await open(browser, { viewport: { width: 390, height: 844 } });
  await smsLogin(page, user, user.phone);
  await enrollByQr(page, phone, user);
  await logout(page);

  await toPushPage(page, user);
  let req = await phone.request(user.login);
  const d = await phone.answer(req.id, "deny");
  assert(d.status === "denied", `deny ${JSON.stringify(d)}`);
  const outcome = page.locator("#push-outcome");
  await outcome.waitFor({ timeout: 10000 });
  const denied = (await outcome.textContent()).trim();
  assert(denied === "Die Anmeldung wurde in der App abgelehnt. Wenn Sie das nicht selbst waren, ändern Sie bitte Ihr Passwort.", `denied: ${denied}`);
  assert(pathOf(page) === "/portal/login/push", "stays on the wait page");
  await axe(page, "push denied de");
  await shoot(page, "push-denied-de", { sizes: ["phone"] });
  // Back to the login, the same again with "not me".
  await Promise.all([page.waitForURL((u) => u.pathname === "/portal/login"), page.locator("#push-back").click()]);
  await toPushPage(page, user);
  req = await phone.request(user.login);
  await phone.answer(req.id, "deny", { reason: "not_me" });
  await outcome.waitFor({ timeout: 10000 });
  const notMe = (await outcome.textContent()).trim();
  const LOCKED = "Anmeldungen per App sind für Ihr Konto vorübergehend gesperrt, weil Anfragen abgelehnt wurden. Ihr Makler kann die Sperre aufheben. Sie können sich per SMS-Code anmelden.";
  assert(notMe === LOCKED, `"not me": ${notMe}`);
  assert(await page.locator("#push-use-sms").isVisible(), "SMS offered after the lock");
  await axe(page, "push locked de");
  await shoot(page, "push-locked-de", { sizes: ["phone"] });
  // Now push is locked: the next login says so and offers the SMS code.
  await Promise.all([page.waitForURL((u) => u.pathname === "/portal/login"), page.locator("#push-back").click()]);
  const next = await password(page, user);
  assert(next === "/portal/login/sms", `after "not me" the login goes to the SMS code, got ${next}`);
  story.lockedUser = user;
  await page.finish();
});

test("SMS fallback: from the wait page to the SMS code (wrong code first, then the one from the outbox)", async ({ browser }) => {
  assert(story.maxPhone, "needs the enrollment test");
  const page = await open(browser, { viewport: { width: 390, height: 844 } });
  await toPushPage(page, max);
  const seen = smsTo(MAX_PHONE).length;
  await Promise.all([page.waitForURL((u) => u.pathname === "/portal/login/sms"), page.locator("#push-use-sms").click()]);
  const title = (await page.locator("#sms-title").textContent()).trim();
  assert(title === "Code aus der SMS eingeben", `SMS page title: ${title}`);
  const code = await nextSmsCode(MAX_PHONE, seen);
  const wrong = code === "000000" ? "111111" : "000000";
  page.allow(400, "/portal/login/sms");
  await page.locator("#code").fill(wrong);
  await page.locator("#sms-submit").click();
  const err = page.locator("#form-error");
  await err.waitFor();
  assert((await err.textContent()).trim() === "Der Code ist falsch. Sie haben noch 2 Versuche.", `wrong code: ${await err.textContent()}`);
  assert((await page.locator("#code").getAttribute("aria-invalid")) === "true", "field marked invalid");
  await axe(page, "sms wrong code de");
  await shoot(page, "sms-wrong-de", { sizes: ["phone"] });
  await page.locator("#code").fill(code);
  await Promise.all([page.waitForURL((u) => u.pathname === "/portal/"), page.locator("#sms-submit").click()]);
  // The open push request is no longer answerable as a login.
  await page.finish();
});

test("2FA interval on \"Meine Sicherheit\": after one more second factor the browser is trusted and goes straight in; revoking ends it", async ({ browser }) => {
  const user = await newCustomer();
  const page = await open(browser);
  await smsLogin(page, user, user.phone);
  await page.locator("#nav-security").click();
  await waitForPath(page, "/portal/security");
  assert((await page.locator("#interval-now").getAttribute("data-days")) === "0", "interval starts at 'always'");
  await axe(page, "security de");
  const labels = await page.locator("#interval-days option").allTextContents();
  assert(labels.length === 91 && labels[0].trim() === "Immer" && labels[90].trim() === "Alle 90 Tage", `options: ${labels.length} ${labels[0]} … ${labels[90]}`);
  await page.locator("#interval-days").selectOption("30");
  await Promise.all([page.waitForLoadState("load"), page.locator("#interval-save").click()]);
  await page.locator("#notice").waitFor();
  assert((await page.locator("#interval-now").getAttribute("data-days")) === "30", "interval saved");
  await axe(page, "security saved de");
  await shoot(page, "security-de", { full: true });
  // On a phone nothing is cut off: every area of the navigation is in view
  // (it wraps) and the sign-ins stack as cards instead of sticking out.
  const viewport = page.viewportSize();
  await page.setViewportSize({ width: 390, height: 844 });
  const fit = await page.evaluate(() => ({
    page: document.documentElement.scrollWidth,
    nav: [...document.querySelectorAll("nav.mainnav a")].map((a) => Math.ceil(a.getBoundingClientRect().right)),
    signins: Math.ceil(document.querySelector("#signins-table").getBoundingClientRect().right),
  }));
  await page.setViewportSize(viewport);
  assert(fit.page <= 390 && fit.nav.length >= 3 && fit.nav.every((r) => r <= 390) && fit.signins <= 390, `phone layout: ${JSON.stringify(fit)}`);
  await shoot(page, "security-signins-de", { sizes: ["phone"], scrollTo: "#signins" });

  // The next login still asks (the browser is not trusted yet) and then remembers it.
  await logout(page);
  await smsLogin(page, user, user.phone);
  await page.locator("#nav-security").click();
  await page.locator("[data-testid=browser-row]").first().waitFor();
  assert((await page.locator("[data-testid=browser-row]").count()) === 1, "one trusted browser listed");
  assert(/Chrome|Chromium/.test(await page.locator("#browsers-table").textContent()), "browser named");
  await shoot(page, "security-trusted-de", { sizes: ["desktop"] });
  await logout(page);
  const seen = smsTo(user.phone).length;
  const next = await password(page, user);
  assert(next === "/portal/", `trusted browser: straight in, got ${next}`);
  assert(smsTo(user.phone).length === seen, "no SMS sent for a trusted browser");
  // Another browser is not trusted.
  const other = await open(browser);
  assert((await password(other, user)) === "/portal/login/sms", "another browser still needs the second factor");
  await other.finish();
  // Revoke it on the security page: the next login asks again.
  await page.locator("#nav-security").click();
  await page.locator("[data-testid=browser-revoke]").first().click();
  await page.locator("#browsers-empty").waitFor();
  await logout(page);
  assert((await password(page, user)) === "/portal/login/sms", "after revoking: second factor again");
  await enterSms(page, user.phone, smsTo(user.phone).length - 1);
  await waitForPath(page, "/portal/");

  // The password, on the same page: a mistake is said next to the form, then the change.
  await page.locator("#nav-security").click();
  const fresh = "Neu-" + user.password;
  await page.locator("#password-current").fill(user.password);
  await page.locator("#password-new").fill(fresh);
  await page.locator("#password-repeat").fill(fresh + "x");
  page.allow(422, "/portal/security/password");
  await Promise.all([page.waitForLoadState("load"), page.locator("#password-save").click()]);
  await page.locator("#password-error").waitFor();
  assert(/stimmen nicht überein/.test(await page.locator("#password-error").textContent()), "mismatch said");
  assert((await page.locator("#password-current").inputValue()) === "", "no password is sent back");
  await axe(page, "security password error de");
  await shoot(page, "security-password-error-de", { sizes: ["phone"], scrollTo: "#password" });
  await page.locator("#password-current").fill(user.password);
  await page.locator("#password-new").fill(fresh);
  await page.locator("#password-repeat").fill(fresh);
  await Promise.all([page.waitForLoadState("load"), page.locator("#password-save").click()]);
  await page.locator("#notice").waitFor();
  assert(/Passwort wurde geändert/.test(await page.locator("#notice").textContent()), "change confirmed");
  await logout(page);
  const old = user.password;
  user.password = fresh;
  assert((await password(page, user)) === "/portal/login/sms", "the new password is accepted");
  await page.goto(`${portal}/login`);
  page.allow(401, "/portal/login");
  await page.locator("#login").fill(user.login);
  await page.locator("#password").fill(old);
  await Promise.all([page.waitForLoadState("load"), page.locator("#login-submit").click()]);
  await page.locator("#form-error").waitFor();
  assert(pathOf(page) === "/portal/login", "the old password is not accepted");
  await page.finish();
});

test("English: login, SMS page and overview switch language and stay switched", async ({ browser }) => {
  const user = await newCustomer({ name: "Jane Example" });
  const page = await open(browser, { lang: "en" });
  await page.locator("#login-title").waitFor();
  assert((await page.locator("#login-title").textContent()).trim() === "Log in", "English title");
  assert((await page.evaluate(() => document.documentElement.lang)) === "en", "html lang en");
  await axe(page, "login en");
  await shoot(page, "login-en");
  const seen = smsTo(user.phone).length;
  await password(page, user);
  assert(pathOf(page) === "/portal/login/sms", "sms page");
  assert(/text message/.test(await page.locator("#sms-intro").textContent()), "English SMS page");
  await axe(page, "sms en");
  await enterSms(page, user.phone, seen);
  await waitForPath(page, "/portal/");
  assert(/Welcome, Jane Example/.test(await page.locator("#page-title").textContent()), "English welcome");
  await axe(page, "home en");
  await shoot(page, "home-customer-en");
  await page.locator("#nav-setup").click();
  await page.locator("#setup-qr").waitFor();
  await axe(page, "setup en");
  await shoot(page, "setup-en", { scrollTo: "#setup-status" });
  // Back to German with the switch in the header, on the same page.
  await page.locator("#lang-switch").click();
  await waitForPath(page, "/portal/setup");
  const title = (await page.locator("#page-title").textContent()).trim();
  assert(title === "Ident-App einrichten", `German again: ${title}`);
  await page.finish();
});

test("a customer without a mobile number: the login explains who must enter it", async ({ browser }) => {
  const page = await open(browser, { viewport: { width: 390, height: 844 } });
  const next = await password(page, erika);
  assert(next === "/portal/login/no-factor", `Erika: no-factor page, got ${next}`);
  const text = await page.locator("main").textContent();
  assert(/nur Ihr Vermittler/.test(text), `names the broker: ${text}`);
  await axe(page, "no factor de");
  await shoot(page, "no-factor-de");
  await page.finish();
});

test("a customer sees no broker pages and cannot open them (403 with a plain sentence)", async ({ browser }) => {
  const user = await newCustomer();
  const page = await open(browser, { viewport: { width: 390, height: 844 } });
  await smsLogin(page, user, user.phone);
  const nav = await page.locator("nav.mainnav a").evaluateAll((as) => as.map((a) => a.id));
  assert(nav.includes("nav-security") && nav.includes("nav-setup"), `customer nav: ${nav}`);
  for (const id of ["nav-customers", "nav-mail", "nav-sms-costs"]) assert(!nav.includes(id), `customer nav has ${id}`);
  for (const p of ["/portal/customers", "/portal/mail", "/portal/mail/send", "/portal/sms-costs"]) {
    page.allow(403, p);
    const r = await page.goto(`${portal}${p.slice("/portal".length)}`);
    assert(r.status() === 403, `${p}: ${r.status()}`);
    const msg = page.locator("#error-message");
    assert((await msg.getAttribute("data-status")) === "403", `${p}: error page`);
    const text = (await msg.textContent()).trim();
    assert(text.length > 10 && !/forbidden|403|problem/i.test(text), `${p}: plain sentence: ${text}`);
  }
  await axe(page, "forbidden de");
  await shoot(page, "forbidden-de", { sizes: ["phone"] });
  // An unknown portal address: the 404 page, in the portal's layout.
  page.allow(404, "/portal/gibt-es-nicht");
  const r404 = await page.goto(`${portal}/gibt-es-nicht`);
  assert(r404.status() === 404 && (await page.locator("#error-message").getAttribute("data-status")) === "404", "404 page");
  await axe(page, "not found de");
  await page.finish();
});

test("broker: \"Meine Kunden\" filters, enters a customer's mobile number, lifts a \"not me\" lock, sets the interval for all", async ({ browser }) => {
  // A customer without a number cannot log in yet.
  const hannah = await newCustomer({ phone: false, name: "Hannah Neumann" });
  const cust = await open(browser, { viewport: { width: 390, height: 844 } });
  assert((await password(cust, hannah)) === "/portal/login/no-factor", "no number: the explanation page");

  const page = await open(browser);
  await smsLogin(page, broker, BROKER_PHONE);
  await page.locator("#nav-customers").click();
  await waitForPath(page, "/portal/customers");
  const rowLogins = () => page.locator("[data-testid=customer-row]").evaluateAll((trs) => trs.map((t) => t.dataset.login));
  const all = await rowLogins();
  assert(all.includes(max.login) && all.includes(erika.login) && all.includes(hannah.login), `all customers: ${all}`);
  assert(!all.includes("1001") && !all.includes("1002"), "staff are not customers");
  await axe(page, "customers de");
  await shoot(page, "customers-de", { full: true });
  // Filter: without a number.
  await page.locator("#filter").selectOption("without-phone");
  await Promise.all([page.waitForURL((u) => u.searchParams.get("filter") === "without-phone"), page.locator("#customers-apply").click()]);
  const without = await rowLogins();
  assert(without.includes(erika.login) && without.includes(hannah.login) && !without.includes(max.login), `without a number: ${without}`);
  // With the app.
  await page.goto(`${portal}/customers?filter=app`);
  const withApp = await rowLogins();
  assert(withApp.includes(max.login) && !withApp.includes(hannah.login), `with the app: ${withApp}`);

  // Hannah's number: a wrong one is refused in a sentence, a right one saved.
  await page.goto(`${portal}/customers?filter=without-phone`);
  await page.locator(`[data-testid=customer-row][data-login="${hannah.login}"] [data-testid=customer-edit]`).click();
  await page.locator("#customer-phone").waitFor();
  assert((await page.locator("#page-title").textContent()).trim() === "Hannah Neumann", "detail page");
  page.allow(422, "/phone");
  page.allow(400, "/phone");
  await page.locator("#customer-phone").fill("12");
  await page.locator("#customer-phone-save").click();
  await page.locator("#customer-phone-error").waitFor();
  assert((await page.locator("#customer-phone-error").textContent()).trim().startsWith("Das ist keine gültige Telefonnummer."), "invalid number refused");
  await axe(page, "customer phone error de");
  await page.locator("#customer-phone").fill("0151 98765432");
  await Promise.all([page.waitForLoadState("load"), page.locator("#customer-phone-save").click()]);
  await page.locator("#notice").waitFor();
  assert(/Hannah Neumann/.test(await page.locator("#notice").textContent()), "saved notice names her");
  assert(/678|432/.test(await page.locator("#customer-phone-now").textContent()), `number shown: ${await page.locator("#customer-phone-now").textContent()}`);
  await axe(page, "customer detail de");
  await shoot(page, "customer-de");
  // Now Hannah gets her code by SMS at that number.
  await smsLogin(cust, hannah, "+4915198765432");
  await cust.finish();

  // The customer locked by "not me" (the deny test): the broker lifts the lock.
  const locked = story.lockedUser;
  if (locked || !process.env.ONLY) {
    assert(locked, "needs the deny test's locked customer");
    await page.goto(`${portal}/customers`);
    const row = page.locator(`[data-testid=customer-row][data-login="${locked.login}"]`);
    assert(/^true$/i.test(await row.getAttribute("data-locked")), `locked in the list: ${await row.getAttribute("data-locked")}`);
    await row.locator("[data-testid=customer-edit]").click();
    await page.locator("#customer-lock").waitFor();
    await axe(page, "customer locked de");
    await shoot(page, "customer-locked-de", { sizes: ["desktop"] });
    await Promise.all([page.waitForLoadState("load"), page.locator("#customer-unlock").click()]);
    await page.locator("#notice").waitFor();
    assert((await page.locator("#customer-lock").count()) === 0, "lock gone");
    assert((await api("GET", `/api/v1/users/${encodeURIComponent(locked.login)}`)).push_locked === false, "the API has the lock lifted");
    // Push works again: the next login shows the wait page.
    const again = await open(browser);
    assert((await password(again, locked)) === "/portal/login/push", "after the unlock: the push wait page");
    await again.finish();
  }

  // The interval for all customers.
  await page.goto(`${portal}/customers`);
  await page.locator("#bulk-interval-days").selectOption("14");
  page.allow(422, "/portal/customers/interval");
  page.allow(400, "/portal/customers/interval");
  await page.locator("#bulk-interval-save").click();
  // Without the confirmation box nothing changes (the browser or the server refuses).
  await page.waitForLoadState("load");
  const unchanged = await page.locator("[data-testid=customer-interval]").allTextContents();
  assert(!unchanged.some((t) => /14/.test(t)), `nothing changed without the confirmation: ${unchanged}`);
  await page.locator("#bulk-interval-days").selectOption("14");
  await page.locator("#bulk-interval-confirm").check();
  await Promise.all([page.waitForLoadState("load"), page.locator("#bulk-interval-save").click()]);
  await page.locator("#notice").waitFor();
  assert(/14 Tage/.test(await page.locator("#notice").textContent()), `bulk notice: ${await page.locator("#notice").textContent()}`);
  const intervals = await page.locator("[data-testid=customer-interval]").allTextContents();
  assert(intervals.length >= 3 && intervals.every((t) => /14 Tage/.test(t)), `every customer at 14 days: ${intervals}`);
  const maxUser = await api("GET", `/api/v1/users/${encodeURIComponent(max.login)}`);
  assert(maxUser.interval_days === 14, `the API has 14 days for Max: ${maxUser.interval_days}`);
  const brokerUser = await api("GET", "/api/v1/users/1000");
  assert(brokerUser.interval_days === 0, `the broker's own interval unchanged: ${brokerUser.interval_days}`);
  await axe(page, "customers bulk de");
  await page.finish();
});

test("another broker sees none of Maklerbüro Schmidt's customers", async ({ browser }) => {
  const login = `2000${Date.now() % 1000}`;
  const pw = "Zweiter-Makler-Passwort-1";
  await api("POST", "/api/v1/users", { login, display_name: "Finanzkontor Nord", role: "broker", phone: "+49 160 99887766", email: "nord@example.de", password: pw });
  const page = await open(browser);
  await smsLogin(page, { login, password: pw }, OTHER_BROKER_PHONE);
  await page.locator("#nav-customers").click();
  await waitForPath(page, "/portal/customers");
  assert((await page.locator("[data-testid=customer-row]").count()) === 0, "no customers of another broker");
  page.allow(403, "/portal/customers/");
  page.allow(404, "/portal/customers/");
  const r = await page.goto(`${portal}/customers/${encodeURIComponent(max.login)}`);
  assert(r.status() === 403 || r.status() === 404, `another broker's customer: ${r.status()}`);
  assert(!(await page.locator("main").textContent()).includes("+49"), "no number shown");
  await page.finish();
});

test("customer mail: edit a letter with live preview, send to customers with a number, mails arrive at the SMTP server", async ({ browser }) => {
  const page = await open(browser);
  await smsLogin(page, broker, BROKER_PHONE);
  await axe(page, "home broker de");
  await shoot(page, "home-broker-de");
  await page.locator("#nav-mail").click();
  await waitForPath(page, "/portal/mail");
  await axe(page, "mail index de");
  await shoot(page, "mail-de");
  // A letter of one's own starts from a form of its own.
  await page.locator("#mail-new").click();
  await waitForPath(page, "/portal/mail/new");
  await page.locator("#mail-body").waitFor();
  await axe(page, "mail new de");
  await page.locator("#mail-back").click();
  await waitForPath(page, "/portal/mail");
  await page.locator("#edit-mit-handynummer").click();
  await waitForPath(page, "/portal/mail/templates/mit-handynummer");
  await page.locator("#preview-body").waitFor();
  const stamp = `E2E-${Date.now().toString(36)}`;
  const subject = `Ihre neue Anmeldung bei FondsKontor (${stamp})`;
  await page.locator("#mail-subject").fill(subject);
  const body = await page.locator("#mail-body").inputValue();
  assert(body.includes("{{ anrede }}") || body.includes("{{anrede}}"), "default letter uses {{ anrede }}");
  await page.locator("#mail-body").fill(`${body}\n\nPS: Testlauf ${stamp} – Grüße an {{ name }}.`);
  // The preview follows while typing (mail.js), rendered by the server.
  await until("the preview to show the edit", async () => (await page.locator("#preview-subject").textContent()).includes(stamp));
  await until("the preview body to show the edit", async () => {
    const text = await page.locator("#preview-body").textContent();
    if (!text.includes(`PS: Testlauf ${stamp}`)) throw new Error(`preview: …${text.slice(-200)}`);
    return !text.includes("{{ name }}");
  });
  // An unknown placeholder is refused in a plain sentence on saving.
  page.allow(422, "/portal/mail/templates/");
  await page.locator("#mail-body").fill(`${body}\n{{ passwort }}`);
  await page.locator("#mail-save").click();
  await page.locator("#form-error").waitFor();
  assert(/passwort/.test(await page.locator("#form-error").textContent()), `refusal: ${await page.locator("#form-error").textContent()}`);
  await page.locator("#mail-subject").fill(subject);
  await page.locator("#mail-body").fill(`${body}\n\nPS: Testlauf ${stamp} – Grüße an {{ name }}.`);
  await Promise.all([page.waitForLoadState("load"), page.locator("#mail-save").click()]);
  await until("the saved notice", () => page.locator("#mail-notice").isVisible());
  await axe(page, "mail edit de");
  await shoot(page, "mail-edit-de");

  // Send: choose the letter and the group, check the list, confirm.
  await page.goto(`${portal}/mail/send?vorlage=mit-handynummer&gruppe=mit-handy&anzeigen=1`);
  await page.locator("#send-recipients").waitFor();
  const rows = await page.locator("#send-recipients tbody tr").evaluateAll((trs) => trs.map((t) => ({ login: t.dataset.login, skip: t.dataset.skip === "1" })));
  const logins = rows.map((r) => r.login);
  assert(logins.includes(max.login), `Max (with number) listed: ${logins}`);
  assert(!logins.includes(erika.login), "Erika (no number) not listed");
  const sending = rows.filter((r) => !r.skip).map((r) => r.login);
  assert((await page.locator("#sample-subject").textContent()).includes(stamp), "sample shows the edited subject");
  await axe(page, "mail send de");
  await shoot(page, "mail-send-de", { full: true });
  await page.locator("#send-confirmed").check();
  await Promise.all([page.waitForURL((u) => u.pathname.startsWith("/portal/mail/log/")), page.locator("#send-now").click()]);
  const result = page.locator("#log-result");
  await until("the campaign to finish", async () => Number(await result.getAttribute("data-pending")) === 0 && (await page.locator("#mail-campaign").getAttribute("data-state")) !== "running", { timeout: 30000, every: 250 }).catch(async (e) => {
    // The log page follows by itself; a reload shows the final state too.
    await page.reload();
    throw e;
  });
  if (Number(await result.getAttribute("data-sent")) !== sending.length) console.log(await page.locator("main").innerText());
  assert(Number(await result.getAttribute("data-sent")) === sending.length, `sent ${await result.getAttribute("data-sent")} of ${sending.length}`);
  assert(Number(await result.getAttribute("data-failed")) === 0, "none failed");
  await axe(page, "mail log de");
  await shoot(page, "mail-log-de");

  // What arrived at the SMTP server.
  const mails = await until("the mails at the SMTP server", async () => {
    const all = (await readMaildir()).filter((m) => m.subject.includes(stamp));
    return all.length >= sending.length ? all : null;
  });
  assert(mails.length === sending.length, `arrived ${mails.length}, expected ${sending.length}`);
  const toMax = mails.find((m) => m.to.includes(max.login));
  assert(toMax, "Max got one");
  assert(toMax.subject === subject, `subject with umlauts decoded: ${toMax.subject}`);
  assert(/Guten Tag Max Mustermann/.test(toMax.body), "salutation filled in");
  assert(toMax.body.includes(`PS: Testlauf ${stamp} – Grüße an Max Mustermann.`), "the edit, filled in");
  assert(!toMax.cc && !/,/.test(toMax.to), "one recipient per mail");
  assert(/Maklerbüro Schmidt|info@maklerbuero-schmidt/.test(toMax.reply_to), `Reply-To the broker: ${toMax.reply_to}`);
  await page.finish();
});

test("Max removes his phone on \"Meine Sicherheit\": confirmation page, then logins go by SMS", async ({ browser }) => {
  assert(story.maxPhone, "needs the enrollment test");
  const page = await open(browser);
  await toPushPage(page, max);
  const req = await story.maxPhone.request(max.login);
  await story.maxPhone.answer(req.id, "approve", { number: (await page.locator("#push-number").textContent()).trim() });
  await waitForPath(page, "/portal/");
  await page.locator("#nav-security").click();
  const row = page.locator("[data-testid=device-row]");
  await row.first().waitFor();
  assert((await row.count()) === 1, "one device");
  assert((await row.locator("[data-testid=device-name]").textContent()).trim() === "Testhandy", "the name given at enrollment");
  await row.locator("[data-testid=device-remove]").click();
  await page.locator("#remove-device-confirm").waitFor();
  await axe(page, "security remove de");
  await shoot(page, "security-remove-de", { sizes: ["phone"] });
  await Promise.all([page.waitForURL((u) => u.pathname === "/portal/security"), page.locator("#remove-device-confirm").click()]);
  await page.locator("#devices-empty").waitFor();
  assert((await page.locator("#notice").textContent()).includes("Testhandy"), "notice names the device");
  // The next login goes by SMS (in another browser: this one is trusted
  // now, Max's interval being 14 days since the broker's change).
  await page.finish();
  const other = await open(browser);
  assert((await password(other, max)) === "/portal/login/sms", "without a device: the SMS page");
  await other.finish();
});

test("broker: SMS costs of the quarter, totals with VAT, CSV download", async ({ browser }) => {
  const page = await open(browser);
  await smsLogin(page, broker, BROKER_PHONE);
  await page.locator("#nav-sms-costs").click();
  await waitForPath(page, "/portal/sms-costs");
  assert((await page.locator("#page-title").textContent()).trim() === "SMS-Kosten", `title: ${await page.locator("#page-title").textContent()}`);
  // Every SMS of this run went to a user of Maklerbüro Schmidt, except the other broker's.
  const outbox = fs.readFileSync(smsOutbox, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
  const expected = outbox.filter((m) => m.to !== OTHER_BROKER_PHONE).length;
  const count = Number(await page.locator("#sms-totals").getAttribute("data-count"));
  assert(count === expected, `ledger ${count} SMS, outbox ${expected}`);
  assert((await page.locator("[data-testid=sms-row]").count()) === count, "one row per SMS");
  const euro = (sel) => page.locator(sel).textContent().then((t) => Math.round(Number(t.replace(/[^\d,-]/g, "").replace(",", ".")) * 100));
  const net = await euro("#sms-net-total");
  const vat = await euro("#sms-vat-total");
  const gross = await euro("#sms-gross-total");
  assert(net === count * 10, `net ${net} cents for ${count} SMS`);
  assert(Math.abs(vat - net * 0.19) <= 1 && gross === net + vat, `VAT ${vat}, gross ${gross}`);
  const logins = await page.locator("[data-testid=sms-row]").evaluateAll((trs) => trs.map((t) => t.dataset.login));
  assert(logins.includes(max.login), "Max's SMS listed");
  await axe(page, "sms costs de");
  await shoot(page, "sms-costs-de", { full: true });
  await shoot(page, "sms-costs-ledger-de", { sizes: ["phone"], scrollTo: "#sms-ledger-title" });
  // The CSV as the browser downloads it.
  const [download] = await Promise.all([page.waitForEvent("download"), page.locator("#sms-csv").click()]);
  const file = path.join(workDir, download.suggestedFilename());
  await download.saveAs(file);
  const csv = fs.readFileSync(file, "utf8");
  const lines = csv.trim().split(/\r?\n/);
  assert(/\.csv$/.test(download.suggestedFilename()), `file name ${download.suggestedFilename()}`);
  assert(csv.includes(max.login) && lines.length >= count + 1, `CSV: ${lines.length} lines for ${count} SMS`);
  // English.
  await page.locator("#lang-switch").click();
  await waitForPath(page, "/portal/sms-costs");
  assert((await page.locator("#page-title").textContent()).trim() === "SMS costs", "English title");
  await axe(page, "sms costs en");
  await shoot(page, "sms-costs-en", { sizes: ["desktop"] });
  await page.finish();
});

// ---------------------------------------------------------------- main

if (SHOTS) {
  fs.mkdirSync(shotDir, { recursive: true });
  // A full run writes them all anew (no stale pictures of renamed steps).
  if (!process.env.ONLY) for (const f of fs.readdirSync(shotDir)) if (/^portal-.*\.png$/.test(f)) fs.rmSync(path.join(shotDir, f));
}
const { browser, cleanup } = await launch();
let result;
try {
  result = await runAll({ browser });
} finally {
  await browser.close();
  cleanup();
}
console.log("\naxe-core (serious/critical fail the run):");
for (const a of a11y) console.log(`  ${a.label}: ${a.bad} serious/critical, ${a.total} total ${a.ids.length ? `[${a.ids.join(", ")}]` : ""}`);
if (SHOTS) console.log(`\nscreenshots: ${shots.length} in docs/screenshots/ (portal-*.png)`);
console.log(`\n${result.passed} passed, ${result.failed} failed`);
process.exit(result.failed ? 1 : 0);
