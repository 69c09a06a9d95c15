// "Firefox auf Windows" from a user agent string. Order matters: many browsers
// claim to be Chrome and Safari too.
import { t, type Params } from "./i18n";
import type { Lang } from "./types";

export interface UaParts { browser: string | null; os: string | null; }

const BROWSERS: [RegExp, string][] = [
  [/\bEdg(e|A|iOS)?\//, "Edge"],
  [/\bOPR\/|\bOpera\b/, "Opera"],
  [/\bSamsungBrowser\//, "Samsung Internet"],
  [/\bVivaldi\//, "Vivaldi"],
  [/\bYaBrowser\//, "Yandex Browser"],
  [/\bFirefox\/|\bFxiOS\//, "Firefox"],
  [/\bCriOS\/|\bChrome\/|\bChromium\//, "Chrome"],
  [/\bVersion\/[\d.]+.*\bSafari\//, "Safari"],
  [/\bMSIE |\bTrident\//, "Internet Explorer"],
];
const SYSTEMS: [RegExp, string][] = [
  [/\bWindows NT\b|\bWindows\b/, "Windows"],
  [/\biPad\b/, "iPadOS"],
  [/\biPhone\b|\biPod\b/, "iOS"],
  [/\bAndroid\b/, "Android"],
  [/\bCrOS\b/, "ChromeOS"],
  [/\bMac OS X\b|\bMacintosh\b/, "macOS"],
  [/\bUbuntu\b/, "Ubuntu"],
  [/\bLinux\b|\bX11\b/, "Linux"],
];

export function parseUserAgent(ua: string): UaParts {
  const browser = BROWSERS.find(([re]) => re.test(ua))?.[1] ?? null;
  const os = SYSTEMS.find(([re]) => re.test(ua))?.[1] ?? null;
  return { browser, os };
}

export function describeUserAgent(ua: string, lang?: Lang): string {
  const { browser, os } = parseUserAgent(ua ?? "");
  const p: Params = {
    browser: browser ?? t("uaUnknownBrowser", undefined, lang),
    os: os ?? t("uaUnknownOs", undefined, lang),
  };
  if (!browser && !os) return t("uaUnknownBrowser", undefined, lang);
  return t("uaOn", p, lang);
}
