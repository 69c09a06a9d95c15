#!/usr/bin/env python3
"""End-to-end test of the real Ident app window (Tauri 2, WebKitGTK) driven
through tauri-driver (WebDriver on 127.0.0.1:4444) against a real
ident-server on loopback. Started by scripts/app-e2e, which provides:

  IDENT_APP_BIN     the ident-app binary (built with custom-protocol)
  IDENT_SERVER_URL  the server's base URL (http://127.0.0.1:<port>)
  IDENT_API_KEY     the portal's API key
  IDENT_LOGIN       a user with a mobile number
  IDENT_SCREENSHOT  where to save the window after the approval (optional)
  IDENT_CLI_BIN     the `ident` CLI, which must read the app's export
  IDENT_E2E_DIR     a scratch directory (the CLI's vault, failure screenshots)
  HOME              the app's home: the export lands in $HOME/Downloads
  WEBDRIVER_URL     tauri-driver (default http://127.0.0.1:4444)

The steps share one app session and run in order; a step that fails makes
the ones after it fail too (they depend on it). Ends with `N passed, M failed`.
"""

import base64
import hashlib
import hmac
import json
import os
import struct
import subprocess
import sys
import time
import traceback
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.options import ArgOptions

PIN = "739154"
BROWSER_IP = "203.0.113.9"
BROWSER_UA = "Mozilla/5.0 (E2E)"
TOTP_SECRET = "JBSWY3DPEHPK3PXP"
TOTP_URI = f"otpauth://totp/E2E-Issuer:alice%40example.org?secret={TOTP_SECRET}&issuer=E2E-Issuer&digits=6&period=30"
EXPORT_PASSPHRASE = "Export-Passphrase-E2E"
WAIT = 30  # seconds, for anything the UI or the server does

SERVER = os.environ["IDENT_SERVER_URL"]
API_KEY = os.environ["IDENT_API_KEY"]
LOGIN = os.environ.get("IDENT_LOGIN", "1000")


# ---------- the portal (relying-party API) ----------

def api(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(SERVER + path, data=data, method=method)
    req.add_header("Authorization", f"Bearer {API_KEY}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            raw = r.read()
            return r.status, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, raw.decode(errors="replace")


def start_login():
    """POST /api/v1/auth (push); returns (txn, number)."""
    code, body = api("POST", "/api/v1/auth", {
        "login": LOGIN, "method": "push",
        "context": {"ip": BROWSER_IP, "user_agent": BROWSER_UA},
    })
    assert code == 200, f"start login: {code} {body}"
    assert body["method"] == "push", body
    return body["txn"], body["number"]


def login_status(txn):
    code, body = api("GET", f"/api/v1/auth/{txn}")
    assert code == 200, f"status: {code} {body}"
    return body["status"]


def wait_status(txn, wanted):
    deadline = time.time() + WAIT
    while True:
        s = login_status(txn)
        if s in wanted:
            return s
        assert time.time() < deadline, f"login {txn} stayed {s!r}, wanted {wanted}"
        time.sleep(0.2)


# ---------- TOTP, to check the code the app shows ----------

def totp(secret, at, period=30, digits=6):
    key = base64.b32decode(secret)
    mac = hmac.new(key, struct.pack(">Q", int(at) // period), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    n = struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF
    return str(n % 10 ** digits).zfill(digits)


# ---------- the window ----------

def screenshot(path):
    """The X display (Xvfb) as a PNG. WebKitWebDriver's own screenshot
    command hangs here (WebKitGTK 2.50 under Xvfb), so ImageMagick's
    `import` grabs the root window, which shows only the app."""
    subprocess.run(["import", "-window", "root", "-trim", "+repage", path], check=True, timeout=20,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class App:
    def __init__(self):
        opts = ArgOptions()
        opts.set_capability("browserName", "wry")
        opts.set_capability("tauri:options", {"application": os.environ["IDENT_APP_BIN"]})
        self.d = webdriver.Remote(
            command_executor=os.environ.get("WEBDRIVER_URL", "http://127.0.0.1:4444"),
            options=opts,
        )
        # Fail a stuck command in time instead of after the client's 120 s default.
        self.d.command_executor._client_config.timeout = WAIT + 10
        self.d.set_page_load_timeout(WAIT)
        self.d.set_script_timeout(WAIT)

    def quit(self):
        try:
            self.d.quit()
        except WebDriverException:
            pass

    def wait(self, css, timeout=WAIT, visible=True):
        """The first element matching `css` (displayed, unless visible=False)."""
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            try:
                for el in self.d.find_elements(By.CSS_SELECTOR, css):
                    if not visible or el.is_displayed():
                        return el
            except WebDriverException as e:  # page replaced while we looked
                last = e
            time.sleep(0.1)
        raise AssertionError(f"timed out after {timeout}s waiting for {css!r} ({last})\n{self.where()}")

    def first(self, *selectors, timeout=WAIT):
        """(selector, element) of whichever of `selectors` shows up first."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            for css in selectors:
                for el in self.d.find_elements(By.CSS_SELECTOR, css):
                    if el.is_displayed():
                        return css, el
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for any of {selectors}\n{self.where()}")

    def click(self, css, timeout=WAIT):
        el = self.wait(css, timeout)
        deadline = time.time() + timeout
        while not el.is_enabled():
            assert time.time() < deadline, f"{css} stayed disabled"
            time.sleep(0.1)
        el.click()
        return el

    def type(self, css, text):
        el = self.wait(css)
        el.clear()
        el.send_keys(text)
        return el

    def where(self):
        """What the window shows, for failure messages."""
        try:
            h = self.d.find_elements(By.CSS_SELECTOR, "h1, h2")
            heads = [x.text for x in h if x.is_displayed()]
            errs = [x.text for x in self.d.find_elements(By.CSS_SELECTOR, ".notice, .field-error") if x.is_displayed()]
            return f"window headings {heads}, notices {errs}"
        except WebDriverException as e:
            return f"(window not readable: {e.msg})"


# ---------- the steps ----------

def step_first_start(app):
    """First start: welcome, set the PIN (twice), optional steps, main screen."""
    # tauri.conf.json `freezePrototype`: the page runs with Object.prototype frozen.
    assert app.d.execute_script("return Object.isFrozen(Object.prototype)") is True, "prototype not frozen"
    app.click('[data-testid="setup-start"]')
    pins = []
    deadline = time.time() + WAIT
    while len(pins) < 2:
        pins = [p for p in app.d.find_elements(By.CSS_SELECTOR, "input.input-pin") if p.is_displayed()]
        assert time.time() < deadline, "the PIN fields did not appear"
        time.sleep(0.1)
    for p in pins:
        p.send_keys(PIN)
    app.click('[data-testid="setup-pin-submit"]')
    # Biometrics (never on Linux) and notifications (unless granted) are optional steps.
    while True:
        css, el = app.first('[data-testid="setup-finish"]', '[data-testid="setup-skip"]', '[data-testid="setup-next"]')
        el.click()
        if css == '[data-testid="setup-finish"]':
            break
        time.sleep(0.3)
    app.wait('[data-testid="nav-accounts"]')


def step_enroll(app):
    """Enroll by pasting the link the portal got from POST /users/{login}/enrollments."""
    code, body = api("POST", f"/api/v1/users/{LOGIN}/enrollments", {})
    assert code == 201, f"enrollment: {code} {body}"
    uri = body["uri"]
    app.click('[data-testid="nav-add"]')
    app.click('[data-testid="add-method-paste"]')
    app.type("#add-text", uri)
    app.click('[data-testid="add-text-submit"]')
    app.click('[data-testid="add-done"]')
    acct = app.wait('[data-testid="account-push"]')
    text = acct.get_attribute("textContent")
    assert LOGIN in text, text
    deadline = time.time() + WAIT
    while True:
        code, user = api("GET", f"/api/v1/users/{LOGIN}")
        if code == 200 and user.get("enrolled") is True:
            break
        assert time.time() < deadline, f"the server never saw the enrollment: {code} {user}"
        time.sleep(0.2)


def step_approve(app):
    """A login approved with the number shown on the login page and the PIN."""
    txn, number = start_login()
    dialog = app.wait("dialog.challenge")
    assert BROWSER_IP in dialog.text, dialog.text
    app.type("#ch-number", number)
    app.type("dialog.challenge input.input-pin", PIN)
    app.click('[data-testid="ch-approve"]')
    app.wait("dialog.challenge .result-badge.ok")
    assert wait_status(txn, {"approved"}) == "approved"
    shot = os.environ.get("IDENT_SCREENSHOT")
    if shot:
        time.sleep(0.5)  # let the result list fill
        os.makedirs(os.path.dirname(shot) or ".", exist_ok=True)
        screenshot(shot)
    app.click('[data-testid="ch-done"]')
    deadline = time.time() + WAIT
    while app.d.find_elements(By.CSS_SELECTOR, "dialog.challenge[open]"):
        assert time.time() < deadline, "the dialog stayed open"
        time.sleep(0.1)


def step_deny_not_me(app):
    """A login denied as "not me": denied (or locked) and push locked for the user."""
    txn, _ = start_login()
    app.wait("dialog.challenge")
    app.click('[data-testid="ch-deny"]')
    app.wait('[data-testid="ch-not-me"]')
    app.type("dialog.challenge input.input-pin", PIN)  # desktop: denying needs the PIN too
    app.click('[data-testid="ch-not-me"]')
    app.wait("dialog.challenge .result-badge.bad")
    recent_outcomes(app, "dialog.challenge", ["pill-bad", "pill-ok"])
    s = wait_status(txn, {"denied", "locked"})
    assert s in ("denied", "locked"), s
    code, user = api("GET", f"/api/v1/users/{LOGIN}")
    assert code == 200 and user["push_locked"] is True, f"{code} {user}"
    app.click('[data-testid="ch-done"]')


def step_otp(app):
    """Paste an otpauth:// URI; the account shows the current TOTP code."""
    app.click('[data-testid="nav-add"]')
    app.click('[data-testid="add-method-paste"]')
    app.type("#add-text", TOTP_URI)
    app.click('[data-testid="add-text-submit"]')
    app.click('[data-testid="add-done"]')
    acct = app.wait('[data-testid="account-otp"]')
    text = acct.get_attribute("textContent")
    assert "E2E-Issuer" in text, text
    el = app.wait('[data-testid="account-otp"] [data-testid="otp-code"]')
    shown = el.get_attribute("textContent").replace(" ", "")
    now = time.time()
    ok = {totp(TOTP_SECRET, now + d) for d in (-30, 0, 30)}
    assert shown in ok, f"shown {shown!r}, expected one of {sorted(ok)}"


def recent_outcomes(app, scope, wanted):
    """The recent-answers list under `scope` shows `wanted` (pill classes, newest first)."""
    deadline = time.time() + WAIT
    while True:
        pills = [p.get_attribute("class") for p in app.d.find_elements(By.CSS_SELECTOR, f"{scope} ul.recent .pill")]
        got = [c for p in pills for c in p.split() if c in ("pill-ok", "pill-bad")]
        if got == wanted:
            return
        assert time.time() < deadline, f"recent answers {got}, wanted {wanted}\n{app.where()}"
        time.sleep(0.1)


def step_restart(app):
    """Quit and start the app again: the vault opens with the PIN, and the
    push account's recent answers (kept in the vault) are still listed."""
    app.quit()
    app.__init__()
    pin = app.wait("input.input-pin")
    pin.send_keys(PIN)
    app.click('button[type="submit"]')
    app.wait('[data-testid="nav-accounts"]')
    app.click('[data-testid="account-push"] .more-btn')
    recent_outcomes(app, '[data-testid="account-push"]', ["pill-bad", "pill-ok"])


def cli(*args, stdin=""):
    """Runs the `ident` CLI (JSON out, answers on stdin) on a vault of its own."""
    env = dict(os.environ,
               IDENT_VAULT=os.path.join(os.environ.get("IDENT_E2E_DIR", "/tmp"), "cli-vault.db"),
               IDENT_TEST_FAST_KDF="1", IDENT_LANG="en")
    r = subprocess.run([os.environ["IDENT_CLI_BIN"], "--json", "--pin-stdin", *args], input=stdin,
                       capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 0, f"ident {' '.join(args)}: exit {r.returncode}\n{r.stdout}\n{r.stderr}"
    return json.loads(r.stdout)


def step_export(app):
    """Settings › export: the shell saves the file in ~/Downloads (0600) and
    shows where; the `ident` CLI imports it with the passphrase."""
    app.click('[data-testid="nav-settings"]')
    submit = app.wait('[data-testid="export-submit"]')
    form = submit.find_element(By.XPATH, "./ancestor::form")
    passes = [f for f in form.find_elements(By.CSS_SELECTOR, 'input[type="password"]') if f.is_displayed()]
    assert len(passes) == 2, f"export form has {len(passes)} passphrase fields"
    for f in passes:
        f.clear()
        f.send_keys(EXPORT_PASSPHRASE)
    # At the foot of a long page: bring it above the bottom navigation first.
    app.d.execute_script("arguments[0].scrollIntoView({block: 'center'})", submit)
    submit.click()
    path = app.wait('[data-testid="export-path"]').get_attribute("textContent").strip()
    downloads = os.path.join(os.environ["HOME"], "Downloads")
    assert os.path.dirname(path) == downloads, f"saved at {path}, not in {downloads}"
    name = os.path.basename(path)
    assert name.startswith("ident-export-") and name.endswith(".identbackup"), name
    assert os.path.isfile(path), f"{path} does not exist"
    mode = os.stat(path).st_mode & 0o777
    assert mode == 0o600, f"{path} has mode {oct(mode)}"
    assert not [n for n in os.listdir(downloads) if n.endswith(".part")], os.listdir(downloads)

    cli("init", stdin=f"{PIN}\n")
    report = cli("import", path, stdin=f"{PIN}\n{EXPORT_PASSPHRASE}\n")
    assert len(report["added"]) == 1, report
    assert [p["login"] for p in report["reenroll"]] == [LOGIN], report
    codes = cli("code", str(report["added"][0]), stdin=f"{PIN}\n")["codes"]
    now = time.time()
    ok = {totp(TOTP_SECRET, now + d) for d in (-30, 0, 30)}
    assert codes and codes[0]["code"] in ok, f"imported code {codes}, expected one of {sorted(ok)}"


STEPS = [
    ("first start: set the PIN", step_first_start),
    ("enroll by pasted link", step_enroll),
    ("login approved with number and PIN", step_approve),
    ("login denied as not me", step_deny_not_me),
    ("OTP account added, code shown", step_otp),
    ("export saved to Downloads, read by the CLI", step_export),
    ("restart: unlock, recent answers still there", step_restart),
]


def main():
    passed = failed = 0
    app = None
    broken = None
    try:
        app = App()
    except Exception as e:  # noqa: BLE001 - report, then count every step as failed
        broken = f"the app session did not start: {e}"
    for name, fn in STEPS:
        t0 = time.time()
        if broken:
            print(f"FAIL {name} (not run: {broken})", flush=True)
            failed += 1
            continue
        try:
            fn(app)
            print(f"ok   {name} ({time.time() - t0:.1f} s)", flush=True)
            passed += 1
        except Exception:  # noqa: BLE001
            print(f"FAIL {name} ({time.time() - t0:.1f} s)\n{traceback.format_exc()}", flush=True)
            try:
                screenshot(os.path.join(os.environ.get("IDENT_E2E_DIR", "/tmp"), f"fail-{fn.__name__}.png"))
            except Exception:  # noqa: BLE001
                pass
            failed += 1
            broken = f"{name} failed"
    if app:
        app.quit()
    print(f"{passed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
