// IpcError → a plain sentence in the current language.
import { formatDuration } from "./countdown";
import { tables, t, tn, type Key } from "./i18n";
import type { IpcError, IpcErrorKind, Lang } from "./types";

export const IPC_KINDS: IpcErrorKind[] = [
  "wrongPin", "backOff", "lockedForever", "weakPin", "pinMismatch", "invalidInput", "notFound",
  "network", "server", "serverKeyMismatch", "challengeExpired", "challengeGone",
  "wrongNumberFormat", "smsCodeWrong", "smsCodeExpired", "cancelled", "internal",
];

export function errorSentence(e: IpcError, lang?: Lang): string {
  switch (e.kind) {
    case "wrongPin":
      return typeof e.attemptsLeft === "number"
        ? tn("err_wrongPinLeft", e.attemptsLeft, undefined, lang)
        : t("err_wrongPin", undefined, lang);
    case "smsCodeWrong":
      return typeof e.attemptsLeft === "number"
        ? tn("err_smsCodeWrongLeft", e.attemptsLeft, undefined, lang)
        : t("err_smsCodeWrong", undefined, lang);
    case "backOff":
      return t("err_backOff", { time: formatDuration(e.waitSeconds ?? 0, lang) }, lang);
    case "invalidInput": {
      if (!e.detail) return t("err_invalidInput", undefined, lang);
      // A known code becomes its sentence; anything else is shown as sent.
      const key = `inv_${e.detail}` as Key;
      return Object.prototype.hasOwnProperty.call(tables.de, key) ? t(key, undefined, lang) : t("err_invalidInputDetail", { detail: e.detail }, lang);
    }
    case "server":
      return e.detail ? t("err_serverDetail", { detail: e.detail }, lang) : t("err_server", undefined, lang);
    default: {
      const key = `err_${e.kind}` as Key;
      return IPC_KINDS.includes(e.kind) ? t(key, undefined, lang) : t("err_internal", undefined, lang);
    }
  }
}
