// A JS implementation of docs/ipc.md for tests and screenshots. Not part of the
// production bundle (only mock.html loads it). State lives in memory.
import type {
  AccountView, AddResult, AppStatus, ChallengeView, IpcError, Lang, NotificationState, Platform, RecentAnswer,
} from "../lib/types";

export interface MockOptions {
  state?: "new" | "locked" | "unlocked";
  accounts?: "demo" | "empty" | number;
  platform?: Platform;
  notifications?: NotificationState;
  biometricAvailable?: boolean;
  biometricEnabled?: boolean;
  languageSetting?: Lang | "system";
  systemLanguage?: Lang;
  waitSeconds?: number;
  lockedForever?: boolean;
  latencyMs?: number;
  pin?: string;
}

export const MOCK_PIN = "135790";
const fail = (e: IpcError): never => {
  throw e;
};

function demoAccounts(): Omit<AccountView, "id">[] {
  const otp = (name: string, issuer: string | null, extra: Partial<AccountView> = {}): Omit<AccountView, "id"> => ({
    kind: "otp", name, issuer, server: null, login: null, otpType: "totp", period: 30, digits: 6, ...extra,
  });
  const push = (name: string, issuer: string, server: string, login: string): Omit<AccountView, "id"> => ({
    kind: "push", name, issuer, server, login, otpType: null, period: null, digits: null,
  });
  return [
    push("Maklerzugang", "smartMSC", "https://id.fondskonzept.example", "m.weber@maklerbuero-weber.de"),
    push("Kundenzugang Familie Weber", "FinanceCloud", "https://id.fondskonzept.example", "100482"),
    otp("Depot 7741", "Beispiel-Bank", { digits: 8 }),
    otp("Online-Banking Admin", "Beispiel-Bank", { otpType: "hotp", period: null }),
    otp("m.weber@maklerbuero-weber.de", "Microsoft"),
    otp("maklerbuero-weber", "GitHub"),
    otp("Buchhaltung", null),
  ];
}
function manyAccounts(n: number): Omit<AccountView, "id">[] {
  const issuers = ["Beispiel-Bank", "FinanceCloud", "smartMSC", "GitHub", "Microsoft", "Fondsplattform", "Versicherung Nord", "Depotbank Süd"];
  return Array.from({ length: n }, (_, i) => {
    const issuer = issuers[i % issuers.length];
    return i % 10 === 0
      ? { kind: "push" as const, name: `Kunde ${10000 + i}`, issuer, server: `https://id${i % 3}.example`, login: String(10000 + i), otpType: null, period: null, digits: null }
      : { kind: "otp" as const, name: `konto-${i}@example.de`, issuer, server: null, login: null, otpType: "totp" as const, period: 30, digits: 6 };
  });
}

/** Deterministic fake code for (id, step): not HOTP, just stable digits. */
function fakeCode(id: number, step: number, digits: number) {
  let h = (id * 2654435761 + step * 40503) >>> 0;
  let s = "";
  for (let i = 0; i < digits; i++) {
    h = (h * 1103515245 + 12345) >>> 0;
    s += String((h >>> 16) % 10);
  }
  return s;
}

export function createMockBackend(o: MockOptions = {}) {
  const pin0 = o.pin ?? MOCK_PIN;
  const s = {
    vaultExists: o.state !== "new",
    unlocked: o.state === "unlocked",
    pin: pin0,
    attemptsLeft: 10,
    failures: 0,
    waitUntil: o.waitSeconds ? Date.now() + o.waitSeconds * 1000 : 0,
    lockedForever: !!o.lockedForever,
    biometricAvailable: o.biometricAvailable ?? false,
    biometricEnabled: o.biometricEnabled ?? false,
    notifications: o.notifications ?? "granted",
    languageSetting: o.languageSetting ?? "system",
    systemLanguage: o.systemLanguage ?? "de",
    lockTimeoutSeconds: 300,
    platform: o.platform ?? "linux",
    accounts: [] as AccountView[],
    nextId: 1,
    counters: new Map<number, number>(),
    challenges: new Map<string, ChallengeView & { number: string }>(),
    answers: new Map<number, RecentAnswer[]>(),
    pendingSms: new Map<string, Omit<AccountView, "id">>(),
    smsWrong: new Map<string, number>(),
    log: [] as { cmd: string; args: unknown }[],
    latencyMs: o.latencyMs ?? 15,
    exports: 0,
    exportFails: false,
  };
  const seed = o.accounts === "empty" ? [] : typeof o.accounts === "number" ? manyAccounts(o.accounts) : demoAccounts();
  for (const a of seed) s.accounts.push({ ...a, id: s.nextId++ });
  const now = () => Math.floor(Date.now() / 1000);
  // Some history for the push accounts.
  for (const a of s.accounts.filter((x) => x.kind === "push").slice(0, 2)) {
    s.answers.set(a.id, [
      { challengeId: `old-${a.id}-1`, service: a.issuer ?? "Portal", at: now() - 3600 * 5, outcome: "approved" },
      { challengeId: `old-${a.id}-2`, service: a.issuer ?? "Portal", at: now() - 86400 * 2, outcome: "denied" },
    ]);
  }

  const status = (): AppStatus => ({
    vaultExists: s.vaultExists,
    unlocked: s.unlocked,
    attemptsLeft: s.vaultExists ? s.attemptsLeft : null,
    waitSeconds: Math.max(0, Math.ceil((s.waitUntil - Date.now()) / 1000)),
    lockedForever: s.lockedForever,
    biometricAvailable: s.biometricAvailable,
    biometricEnabled: s.biometricEnabled,
    notifications: s.notifications,
    language: s.languageSetting === "system" ? s.systemLanguage : s.languageSetting,
    languageSetting: s.languageSetting,
    lockTimeoutSeconds: s.lockTimeoutSeconds,
    platform: s.platform,
  });
  const needUnlocked = () => {
    if (!s.unlocked) fail({ kind: "internal", detail: "locked" });
  };
  const checkPin = (pin: unknown) => {
    if (s.lockedForever) fail({ kind: "lockedForever" });
    const wait = Math.ceil((s.waitUntil - Date.now()) / 1000);
    if (wait > 0) fail({ kind: "backOff", waitSeconds: wait });
    if (pin !== s.pin) {
      s.attemptsLeft--;
      s.failures++;
      if (s.attemptsLeft <= 0) {
        s.lockedForever = true;
        s.unlocked = false;
        fail({ kind: "lockedForever" });
      }
      if (s.failures >= 3) s.waitUntil = Date.now() + 30_000 * 2 ** (s.failures - 3);
      fail({ kind: "wrongPin", attemptsLeft: s.attemptsLeft });
    }
    s.failures = 0;
    s.attemptsLeft = 10;
  };
  const weak = (pin: unknown) => typeof pin !== "string" || !/^\d{4,}$/.test(pin) || /^(\d)\1+$/.test(pin);
  const addAccount = (a: Omit<AccountView, "id">) => {
    const acc = { ...a, id: s.nextId++ };
    s.accounts.push(acc);
    return acc;
  };

  function parseOtpauth(text: string): Omit<AccountView, "id"> {
    const u = new URL(text);
    const type = u.host as "totp" | "hotp";
    if (type !== "totp" && type !== "hotp") fail({ kind: "invalidInput", detail: "unknown OTP type" });
    const label = decodeURIComponent(u.pathname.slice(1));
    const [li, ln] = label.includes(":") ? label.split(/:(.*)/s) : [null, label];
    const secret = u.searchParams.get("secret") ?? "";
    if (!/^[A-Z2-7]+=*$/i.test(secret)) fail({ kind: "invalidInput", detail: "secret is not base32" });
    return {
      kind: "otp",
      name: ln!.trim(),
      issuer: u.searchParams.get("issuer") ?? li,
      server: null,
      login: null,
      otpType: type,
      period: type === "totp" ? Number(u.searchParams.get("period") ?? 30) : null,
      digits: Number(u.searchParams.get("digits") ?? 6),
    };
  }
  function addFromText(text: string): AddResult {
    const tx = text.trim();
    if (tx.startsWith("otpauth://")) return { type: "otpAdded", ids: [addAccount(parseOtpauth(tx)).id], skipped: [] };
    if (tx.startsWith("otpauth-migration://")) {
      const ids = [
        addAccount({ kind: "otp", name: "anna@example.de", issuer: "Google", server: null, login: null, otpType: "totp", period: 30, digits: 6 }).id,
        addAccount({ kind: "otp", name: "anna", issuer: "Dropbox", server: null, login: null, otpType: "totp", period: 30, digits: 6 }).id,
      ];
      return { type: "otpAdded", ids, skipped: [{ name: "legacy", reason: "MD5 wird nicht unterstützt" }] };
    }
    if (tx.startsWith("ident://enroll") || /^https:\/\/[^/]+\/e#/.test(tx)) {
      if (tx.includes("offline")) fail({ kind: "network" });
      if (tx.includes("expired")) fail({ kind: "server", detail: "Der Einrichtungscode ist abgelaufen." });
      const acc: Omit<AccountView, "id"> = {
        kind: "push", name: "Neuer Zugang", issuer: "FinanceCloud", server: "https://id.fondskonzept.example",
        login: "204711", otpType: null, period: null, digits: null,
      };
      if (tx.includes("sms")) {
        const pendingId = `p-${Math.random().toString(36).slice(2)}`;
        s.pendingSms.set(pendingId, acc);
        return { type: "smsRequired", pendingId };
      }
      return { type: "pushEnrolled", id: addAccount(acc).id };
    }
    return fail({ kind: "invalidInput", detail: text.length > 40 ? undefined : "unbekanntes Format" });
  }

  /** Like the real IPC, results are copies (JSON), never shared objects. */
  async function handle(cmd: string, a: Record<string, any> = {}): Promise<unknown> {
    const r = await dispatch(cmd, a);
    return r === undefined ? null : JSON.parse(JSON.stringify(r));
  }
  async function dispatch(cmd: string, a: Record<string, any>): Promise<unknown> {
    s.log.push({ cmd, args: a });
    if (s.latencyMs) await new Promise((r) => setTimeout(r, s.latencyMs));
    switch (cmd) {
      case "plugin:app|version":
        return "0.1.0";
      case "app_status":
        return status();
      case "setup_vault":
        // As the shell: refused over a working vault, replaces one locked for good.
        if (s.vaultExists && !s.lockedForever) fail({ kind: "invalidInput", detail: "vaultExists" });
        if (weak(a.pin)) fail({ kind: "weakPin" });
        if (s.lockedForever) {
          s.lockedForever = false;
          s.accounts.length = 0;
          s.failures = 0;
          s.attemptsLeft = 10;
        }
        s.vaultExists = true;
        s.unlocked = true;
        s.pin = a.pin;
        return status();
      case "unlock":
        checkPin(a.pin);
        s.unlocked = true;
        return status();
      case "unlock_biometric":
        if (!s.biometricEnabled) fail({ kind: "cancelled" });
        s.unlocked = true;
        return status();
      case "lock":
        s.unlocked = false;
        return status();
      case "list_accounts": {
        needUnlocked();
        const q = String(a.query ?? "").toLowerCase();
        return s.accounts.filter((x) => !q || `${x.name} ${x.issuer ?? ""} ${x.server ?? ""}`.toLowerCase().includes(q));
      }
      case "otp_code": {
        needUnlocked();
        const acc = s.accounts.find((x) => x.id === a.id) ?? fail({ kind: "notFound" });
        if (acc.kind !== "otp") fail({ kind: "invalidInput" });
        if (acc.otpType === "hotp") {
          const c = (s.counters.get(acc.id) ?? 0) + 1;
          s.counters.set(acc.id, c);
          return { code: fakeCode(acc.id, c, acc.digits ?? 6), validFrom: null, validUntil: null };
        }
        const p = acc.period ?? 30;
        const step = Math.floor(now() / p);
        return { code: fakeCode(acc.id, step, acc.digits ?? 6), validFrom: step * p, validUntil: (step + 1) * p };
      }
      case "add_from_text":
        needUnlocked();
        return addFromText(String(a.text ?? ""));
      case "add_from_qr_image": {
        needUnlocked();
        const b: number[] = a.bytes ?? [];
        const png = b[0] === 0x89 && b[1] === 0x50;
        const jpg = b[0] === 0xff && b[1] === 0xd8;
        if (!png && !jpg) fail({ kind: "invalidInput", detail: "kein PNG- oder JPEG-Bild" });
        return addFromText("ident://enroll?mock");
      }
      case "confirm_enrollment": {
        const acc = s.pendingSms.get(a.pendingId) ?? fail({ kind: "notFound" });
        if (a.code !== "123456") {
          // Like the service: three wrong codes end the enrollment.
          const wrong = (s.smsWrong.get(a.pendingId) ?? 0) + 1;
          s.smsWrong.set(a.pendingId, wrong);
          if (wrong >= 3) {
            s.pendingSms.delete(a.pendingId);
            fail({ kind: "smsCodeExpired" });
          }
          fail({ kind: "smsCodeWrong", attemptsLeft: 3 - wrong });
        }
        s.pendingSms.delete(a.pendingId);
        return { type: "pushEnrolled", id: addAccount(acc).id };
      }
      case "import_export_file":
        if (a.passphrase !== "richtig-geheim") fail({ kind: "invalidInput", detail: "falsche Passphrase oder veränderte Datei" });
        return {
          type: "otpAdded",
          ids: [addAccount({ kind: "otp", name: "importiert", issuer: "Backup", server: null, login: null, otpType: "totp", period: 30, digits: 6 }).id],
          skipped: [{ name: "Maklerzugang", reason: "Push-Zugang: bitte im Portal neu einrichten" }],
        };
      case "export_vault":
        if (String(a.passphrase).length < 8) fail({ kind: "invalidInput", detail: "passphrase too short" });
        if (s.exportFails) fail({ kind: "internal", detail: "storage" });
        s.exports += 1;
        {
          const fileName = `ident-export-2025-01-01${s.exports > 1 ? `-${s.exports}` : ""}.identbackup`;
          return { fileName, path: `/home/max/Downloads/${fileName}` };
        }
      case "rename_account": {
        const acc = s.accounts.find((x) => x.id === a.id) ?? fail({ kind: "notFound" });
        if (!String(a.name).trim()) fail({ kind: "invalidInput" });
        acc.name = String(a.name).trim();
        return acc;
      }
      case "move_account": {
        const i = s.accounts.findIndex((x) => x.id === a.id);
        if (i < 0) fail({ kind: "notFound" });
        const [acc] = s.accounts.splice(i, 1);
        s.accounts.splice(Math.max(0, Math.min(s.accounts.length, a.toIndex)), 0, acc);
        return [...s.accounts];
      }
      case "remove_account":
        checkPin(a.pin);
        s.accounts = s.accounts.filter((x) => x.id !== a.id);
        return [...s.accounts];
      case "pending_challenges":
        return [...s.challenges.values()].filter((c) => c.expiresAt > now()).map(({ number: _n, ...c }) => c);
      case "answer_challenge": {
        const c = s.challenges.get(a.challengeId) ?? fail({ kind: "challengeGone" });
        if (c.expiresAt <= now()) fail({ kind: "challengeExpired" });
        // Desktop: approve and deny both need the PIN (as the shell checks).
        if (s.platform !== "android" && s.platform !== "ios") checkPin(a.pin);
        if (a.approve) {
          if (c.numberRequired && !/^\d{2,6}$/.test(a.number ?? "")) fail({ kind: "wrongNumberFormat" });
        }
        s.challenges.delete(c.challengeId);
        const outcome = a.approve && (!c.numberRequired || a.number === c.number) ? "approved" : "denied";
        const list = s.answers.get(c.accountId) ?? [];
        list.unshift({ challengeId: c.challengeId, service: c.service, at: now(), outcome });
        s.answers.set(c.accountId, list);
        return { outcome };
      }
      case "recent_answers":
        return s.answers.get(a.accountId) ?? [];
      case "change_pin":
        checkPin(a.oldPin);
        if (weak(a.newPin)) fail({ kind: "weakPin" });
        s.pin = a.newPin;
        return status();
      case "set_biometric":
        if (!s.biometricAvailable) fail({ kind: "invalidInput" });
        s.biometricEnabled = !!a.enabled;
        return status();
      case "set_language":
        s.languageSetting = a.language;
        return status();
      case "set_lock_timeout":
        s.lockTimeoutSeconds = Number(a.seconds);
        return status();
      case "request_notifications":
        if (s.notifications === "prompt") s.notifications = "granted";
        return status();
      default:
        return fail({ kind: "internal", detail: `mock: unknown command ${cmd}` });
    }
  }

  /** Creates a challenge as the shell's long poll would; returns it with its number. */
  function makeChallenge(opt: Partial<ChallengeView> & { number?: string; expiresIn?: number } = {}) {
    const acc = s.accounts.find((x) => x.kind === "push") ?? s.accounts[0];
    const t = now();
    const c = {
      challengeId: `ch-${Math.random().toString(36).slice(2, 10)}`,
      accountId: acc?.id ?? 0,
      accountName: acc?.name ?? "Zugang",
      service: acc?.issuer ?? "smartMSC",
      login: acc?.login ?? "",
      ip: "91.64.23.117",
      userAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0",
      location: "Frankfurt am Main, DE",
      issuedAt: t,
      expiresAt: t + (opt.expiresIn ?? 120),
      numberRequired: true,
      number: "47",
      ...opt,
    };
    delete (c as { expiresIn?: number }).expiresIn;
    s.challenges.set(c.challengeId, c);
    return c;
  }
  return { handle, state: s, status, makeChallenge };
}
export type MockBackend = ReturnType<typeof createMockBackend>;
