import { describe, expect, it } from "vitest";
import { tables, t, tn, systemLang } from "../../src/lib/i18n";
import { pinStrength } from "../../src/lib/pin";
import { describeUserAgent, parseUserAgent } from "../../src/lib/useragent";
import { crossedMilestone, formatDuration, fractionLeft, secondsLeft, totpWindow } from "../../src/lib/countdown";
import { errorSentence, IPC_KINDS } from "../../src/lib/errors";
import { buildOtpauthUri, DEFAULT_KEY } from "../../src/lib/otpauth";
import { toIpcError } from "../../src/lib/ipc";

describe("i18n", () => {
  it("de and en have exactly the same keys", () => {
    expect(Object.keys(tables.en).sort()).toEqual(Object.keys(tables.de).sort());
  });
  it("no empty strings and the same placeholders in both languages", () => {
    for (const k of Object.keys(tables.de) as (keyof typeof tables.de)[]) {
      expect(tables.de[k].length, k).toBeGreaterThan(0);
      expect(tables.en[k].length, k).toBeGreaterThan(0);
      const ph = (s: string) => (s.match(/\{\w+\}/g) ?? []).sort();
      expect(ph(tables.en[k]), k).toEqual(ph(tables.de[k]));
    }
  });
  it("platform notification steps have the same number of steps", () => {
    for (const p of ["ios", "android", "macos", "windows", "linux"]) {
      const k = `notifSteps_${p}` as keyof typeof tables.de;
      expect(tables.en[k].split("|").length).toBe(tables.de[k].split("|").length);
    }
  });
  it("interpolates and picks singular", () => {
    expect(tn("accountsCount", 1, undefined, "de")).toBe("1 Zugang");
    expect(tn("accountsCount", 3, undefined, "en")).toBe("3 accounts");
    expect(t("uaOn", { browser: "Firefox", os: "Windows" }, "de")).toBe("Firefox auf Windows");
  });
  it("German by default, English when the system says so", () => {
    expect(systemLang("en-GB")).toBe("en");
    expect(systemLang("de-AT")).toBe("de");
    expect(systemLang("fr-FR")).toBe("de");
    expect(systemLang(undefined)).toBe("de");
  });
});

describe("PIN strength", () => {
  it("explains short, repeated, sequential and common PINs", () => {
    expect(pinStrength("1234").issues).toEqual(expect.arrayContaining(["tooShort", "sequence", "common"]));
    expect(pinStrength("111111").issues).toContain("repeated");
    expect(pinStrength("987654").issues).toContain("sequence");
    expect(pinStrength("121212").issues).toContain("repeated");
    expect(pinStrength("1987").issues).toContain("date");
    expect(pinStrength("240399").issues).toContain("date");
  });
  it("rates a random 6-digit PIN good and accepts it", () => {
    const s = pinStrength("583920");
    expect(s.issues).toEqual([]);
    expect(s.level).toBe(2);
    expect(s.acceptable).toBe(true);
  });
  it("5 unremarkable digits are fair, under 4 not acceptable, non-digits refused", () => {
    expect(pinStrength("58392").level).toBe(1);
    expect(pinStrength("583").acceptable).toBe(false);
    expect(pinStrength("58a920").acceptable).toBe(false);
  });
});

describe("user agent", () => {
  const cases: [string, string][] = [
    ["Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox auf Windows"],
    ["Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15", "Safari auf macOS"],
    ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0", "Edge auf Windows"],
    ["Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36", "Chrome auf Android"],
    ["Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0 Mobile/15E148 Safari/604.1", "Chrome auf iOS"],
    ["Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 OPR/110.0.0.0", "Opera auf Linux"],
    ["Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36", "Samsung Internet auf Android"],
  ];
  it.each(cases)("%s", (ua, expected) => expect(describeUserAgent(ua, "de")).toBe(expected));
  it("English and unknown", () => {
    expect(describeUserAgent(cases[0][0], "en")).toBe("Firefox on Windows");
    expect(describeUserAgent("curl/8.5.0", "de")).toBe("Unbekannter Browser");
    expect(describeUserAgent("Mozilla/5.0 (X11; Linux x86_64)", "en")).toBe("Unknown browser on Linux");
    expect(parseUserAgent("")).toEqual({ browser: null, os: null });
  });
});

describe("countdown", () => {
  it("seconds left rounds up and never goes negative", () => {
    expect(secondsLeft(100, 99_500)).toBe(1);
    expect(secondsLeft(100, 100_000)).toBe(0);
    expect(secondsLeft(100, 130_000)).toBe(0);
    expect(secondsLeft(160, 100_000)).toBe(60);
  });
  it("TOTP window and ring fraction", () => {
    expect(totpWindow(30, 1_000_015_000)).toEqual([999_990, 1_000_020]);
    expect(fractionLeft(0, 30, 15_000)).toBeCloseTo(0.5);
    expect(fractionLeft(0, 30, 45_000)).toBe(0);
    expect(fractionLeft(10, 10, 0)).toBe(0);
  });
  it("formats durations", () => {
    expect(formatDuration(45, "de")).toBe("45 s");
    expect(formatDuration(125, "de")).toBe("2:05 min");
  });
  it("milestones are crossed once", () => {
    expect(crossedMilestone(61, 60)).toBe(60);
    expect(crossedMilestone(60, 59)).toBe(null);
    expect(crossedMilestone(12, 9)).toBe(10);
  });
});

describe("errors", () => {
  it("every kind has a sentence in both languages", () => {
    for (const kind of IPC_KINDS) {
      for (const lang of ["de", "en"] as const) {
        const s = errorSentence({ kind }, lang);
        expect(s, `${kind} ${lang}`).toMatch(/[.!]$|\)$/);
        expect(s).not.toContain("err_");
      }
    }
  });
  it("uses attemptsLeft, waitSeconds and detail", () => {
    expect(errorSentence({ kind: "wrongPin", attemptsLeft: 1 }, "de")).toBe("Die PIN ist falsch. Noch 1 Versuch.");
    expect(errorSentence({ kind: "wrongPin", attemptsLeft: 4 }, "en")).toBe("The PIN is wrong. 4 attempts left.");
    expect(errorSentence({ kind: "smsCodeWrong", attemptsLeft: 2 }, "de")).toBe("Der SMS-Code ist falsch. Sie haben noch 2 Versuche.");
    expect(errorSentence({ kind: "smsCodeWrong", attemptsLeft: 1 }, "de")).toBe("Der SMS-Code ist falsch. Sie haben noch einen Versuch.");
    expect(errorSentence({ kind: "smsCodeWrong", attemptsLeft: 2 }, "en")).toBe("The SMS code is wrong. You have 2 more tries.");
    expect(errorSentence({ kind: "smsCodeWrong" }, "de")).toBe("Der SMS-Code ist falsch. Bitte prüfen Sie die SMS.");
    expect(errorSentence({ kind: "smsCodeExpired" }, "de")).toContain("neuen Einrichtungscode");
    expect(errorSentence({ kind: "backOff", waitSeconds: 90 }, "de")).toBe("Zu viele falsche Versuche. Bitte warten Sie 1:30 min.");
    expect(errorSentence({ kind: "server", detail: "Konto gesperrt." }, "de")).toContain("Konto gesperrt.");
    expect(errorSentence({ kind: "invalidInput", detail: "secret is not base32" }, "en")).toBe("The input is not valid: secret is not base32");
    // The shell's detail codes become sentences, never the bare code.
    expect(errorSentence({ kind: "invalidInput", detail: "enrollLinkMalformed" }, "de")).toBe(
      "Der Einrichtungslink ist unvollständig oder beschädigt. Bitte kopieren Sie ihn noch einmal vollständig aus dem Portal.",
    );
    expect(errorSentence({ kind: "invalidInput", detail: "noQrCode" }, "en")).toBe("No QR code was found in the image.");
    expect(errorSentence({ kind: "invalidInput", detail: "toString" }, "en")).toBe("The input is not valid: toString");
  });
  it("unknown rejections become internal", () => {
    expect(toIpcError(new Error("boom"))).toEqual({ kind: "internal" });
    expect(toIpcError('{"kind":"network"}')).toEqual({ kind: "network" });
    expect(toIpcError({ kind: "nonsense" })).toEqual({ kind: "internal" });
  });
});

describe("otpauth URI", () => {
  const base = { ...DEFAULT_KEY, issuer: "", name: "", secret: "" };
  it("builds the default TOTP URI with issuer in label and parameter", () => {
    expect(buildOtpauthUri({ ...base, issuer: "Beispiel-Bank", name: "anna@example.de", secret: "jbsw y3dp ehpk 3pxp" })).toBe(
      "otpauth://totp/Beispiel-Bank:anna%40example.de?secret=JBSWY3DPEHPK3PXP&issuer=Beispiel-Bank",
    );
  });
  it("encodes spaces and umlauts, adds advanced parameters", () => {
    expect(
      buildOtpauthUri({ ...base, issuer: "Bank Süd", name: "Zähler", secret: "GEZDGNBV", type: "hotp", counter: 17, digits: 8, algorithm: "SHA256" }),
    ).toBe("otpauth://hotp/Bank%20S%C3%BCd:Z%C3%A4hler?secret=GEZDGNBV&issuer=Bank%20S%C3%BCd&algorithm=SHA256&digits=8&counter=17");
    expect(buildOtpauthUri({ ...base, name: "x", secret: "GEZDGNBV", period: 60 })).toBe("otpauth://totp/x?secret=GEZDGNBV&period=60");
  });
  it("refuses non-base32 secrets and empty names", () => {
    expect(() => buildOtpauthUri({ ...base, name: "x", secret: "JBSW1" })).toThrow("invalidSecret");
    expect(() => buildOtpauthUri({ ...base, name: " ", secret: "JBSW" })).toThrow("required");
  });
});
