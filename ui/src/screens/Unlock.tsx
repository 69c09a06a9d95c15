import { useEffect, useRef, useState } from "preact/hooks";
import { ipc } from "../lib/ipc";
import { errorSentence } from "../lib/errors";
import { formatDuration } from "../lib/countdown";
import { t, tn } from "../lib/i18n";
import { announce } from "../lib/announce";
import type { AppStatus, IpcError } from "../lib/types";
import { Notice, PinField, ScreenTitle } from "../components/ui";

export function Unlock({
  status,
  onStatus,
  onResetup,
}: {
  status: AppStatus;
  onStatus: (s: AppStatus) => void;
  /** Leaves the locked-for-good vault for a new setup (setup_vault replaces it). */
  onResetup: () => void;
}) {
  const [pin, setPin] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [attempts, setAttempts] = useState<number | null>(status.attemptsLeft);
  const [waitUntil, setWaitUntil] = useState(status.waitSeconds > 0 ? Date.now() + status.waitSeconds * 1000 : 0);
  const [now, setNow] = useState(Date.now());
  const [busy, setBusy] = useState(false);
  const [forever, setForever] = useState(status.lockedForever);
  const wasWaiting = useRef(false);

  const wait = Math.max(0, Math.ceil((waitUntil - now) / 1000));
  useEffect(() => {
    if (!waitUntil) return;
    const h = setInterval(() => setNow(Date.now()), 250);
    return () => clearInterval(h);
  }, [waitUntil]);
  useEffect(() => {
    if (wait > 0) wasWaiting.current = true;
    else if (wasWaiting.current) {
      wasWaiting.current = false;
      announce(t("backOffOver"));
    }
  }, [wait]);

  const tryBio = async () => {
    setError(null);
    try {
      onStatus(await ipc.unlockBiometric());
    } catch (e) {
      const err = e as IpcError;
      if (err.kind !== "cancelled") setError(errorSentence(err));
    }
  };
  useEffect(() => {
    if (status.biometricEnabled && !status.lockedForever && status.waitSeconds === 0) void tryBio();
  }, []);

  const submit = async (e: Event) => {
    e.preventDefault();
    if (!pin || wait > 0) return;
    setBusy(true);
    setError(null);
    try {
      onStatus(await ipc.unlock(pin));
    } catch (x) {
      const err = x as IpcError;
      setPin("");
      if (err.kind === "wrongPin") {
        setAttempts(err.attemptsLeft ?? null);
        setError(typeof err.attemptsLeft === "number" ? tn("attemptsLeft", err.attemptsLeft) : errorSentence(err));
      } else if (err.kind === "backOff") {
        setWaitUntil(Date.now() + (err.waitSeconds ?? 0) * 1000);
        setNow(Date.now());
      } else if (err.kind === "lockedForever") {
        setForever(true);
      } else setError(errorSentence(err));
    } finally {
      setBusy(false);
    }
  };

  if (forever) {
    return (
      <main class="onboarding" id="main">
        <div class="card onboarding-card stack">
          <div class="hero-glyph glyph-locked" aria-hidden="true" />
          <ScreenTitle>{t("lockedForeverTitle")}</ScreenTitle>
          <Notice kind="error">{t("lockedForeverText")}</Notice>
          <p>{t("lockedForeverWhat")}</p>
          <button type="button" class="btn btn-primary btn-block" data-testid="resetup" onClick={onResetup}>
            {t("lockedForeverReset")}
          </button>
        </div>
      </main>
    );
  }

  return (
    <main class="onboarding" id="main">
      <form class="card onboarding-card stack" onSubmit={submit} noValidate>
        <img class="hero-icon" src="./icon.svg" alt="" width={64} height={64} />
        <ScreenTitle>{t("unlockTitle")}</ScreenTitle>
        <p>{t("unlockText")}</p>
        <PinField
          label={t("pinLabel")}
          value={pin}
          onValue={setPin}
          autoComplete="current-password"
          disabled={wait > 0}
          error={wait > 0 ? null : error}
        />
        {wait > 0 && (
          <div class="notice notice-warn backoff" role="timer" aria-live="off">
            <span class="notice-icon" aria-hidden="true">!</span>
            <div>{t("backOffLive", { time: formatDuration(wait) })}</div>
          </div>
        )}
        {wait > 0 && <p class="sr-only" role="status">{t("err_backOff", { time: formatDuration(status.waitSeconds || wait) })}</p>}
        {attempts !== null && attempts <= 3 && !error && wait === 0 && (
          <p class="help">{tn("err_wrongPinLeft", attempts).replace(/^[^.]*\.\s*/, "")}</p>
        )}
        <button type="submit" class="btn btn-primary btn-block" disabled={busy || wait > 0 || !pin}>
          {t("unlockButton")}
        </button>
        {status.biometricEnabled && (
          <button type="button" class="btn btn-secondary btn-block" onClick={tryBio} disabled={wait > 0}>
            {t("unlockBiometric")}
          </button>
        )}
      </form>
    </main>
  );
}
