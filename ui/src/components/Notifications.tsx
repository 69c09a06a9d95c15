import { useState } from "preact/hooks";
import { ipc } from "../lib/ipc";
import { errorSentence } from "../lib/errors";
import { t, type Key } from "../lib/i18n";
import type { AppStatus, IpcError } from "../lib/types";
import { Notice } from "./ui";

/** Notification permission state, with platform steps when it is off. */
export function NotificationHelp({ status, onStatus }: { status: AppStatus; onStatus: (s: AppStatus) => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const n = status.notifications;
  const ask = async () => {
    setBusy(true);
    setError(null);
    try {
      onStatus(await ipc.requestNotifications());
    } catch (e) {
      setError(errorSentence(e as IpcError));
    } finally {
      setBusy(false);
    }
  };
  if (n === "granted") return <Notice kind="success">{t("notifGranted")}</Notice>;
  if (n === "unsupported") return <Notice kind="info">{t("notifUnsupported")}</Notice>;
  const steps = t(`notifSteps_${status.platform}` as Key).split("|");
  return (
    <div class="stack">
      <Notice kind="warn" live={false}>
        {n === "denied" ? t("notifDenied") : t("notifPrompt")}
      </Notice>
      {n === "prompt" && (
        <button type="button" class="btn btn-primary" onClick={ask} disabled={busy}>
          {t("notifAllow")}
        </button>
      )}
      {n === "denied" && (
        <>
          <h3 class="subhead">{t("notifStepsTitle")}</h3>
          <ol class="steps">
            {steps.map((s) => (
              <li key={s}>{s}</li>
            ))}
          </ol>
          <button type="button" class="btn btn-secondary" onClick={ask} disabled={busy}>
            {t("notifCheckAgain")}
          </button>
        </>
      )}
      {error && <Notice kind="error">{error}</Notice>}
    </div>
  );
}
