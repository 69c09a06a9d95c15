import { useState } from "preact/hooks";
import { ipc } from "../lib/ipc";
import { errorSentence } from "../lib/errors";
import { t } from "../lib/i18n";
import { isDigits, PIN_MIN } from "../lib/pin";
import type { AppStatus, IpcError } from "../lib/types";
import { Notice, PinField, ScreenTitle, StrengthMeter } from "../components/ui";
import { NotificationHelp } from "../components/Notifications";

type Step = "welcome" | "pin" | "biometric" | "notifications" | "done";

export function Setup({ status: initial, onStatus }: { status: AppStatus; onStatus: (s: AppStatus) => void }) {
  const [status, setStatus] = useState(initial);
  const [step, setStep] = useState<Step>("welcome");
  const [pin, setPin] = useState("");
  const [pin2, setPin2] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const steps: Step[] = ["welcome", "pin"];
  if (status.biometricAvailable) steps.push("biometric");
  if (initial.notifications !== "granted") steps.push("notifications");
  steps.push("done");
  const index = steps.indexOf(step);
  const next = () => setStep(steps[index + 1]);

  const submitPin = async (e: Event) => {
    e.preventDefault();
    setError(null);
    if (!isDigits(pin)) return setError(t("pinDigitsOnly"));
    if (pin.length < PIN_MIN) return setError(t("pinTooShortMin"));
    if (pin !== pin2) return setError(t("pinMismatchLocal"));
    setBusy(true);
    try {
      setStatus(await ipc.setupVault(pin));
      setPin("");
      setPin2("");
      next();
    } catch (err) {
      setError(errorSentence(err as IpcError));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="onboarding" id="main">
      <div class="card onboarding-card">
        {step !== "welcome" && (
          <p class="eyebrow">{t("stepOf", { n: index, total: steps.length - 1 })}</p>
        )}
        {step === "welcome" && (
          <div class="stack" key="welcome">
            <img class="hero-icon" src="./icon.svg" alt="" width={72} height={72} />
            <ScreenTitle>{t("welcomeTitle")}</ScreenTitle>
            <p class="lead">{t("welcomeText")}</p>
            <ul class="checklist">
              <li>{t("welcomePoint1")}</li>
              <li>{t("welcomePoint2")}</li>
              <li>{t("welcomePoint3")}</li>
            </ul>
            <button type="button" class="btn btn-primary btn-block" data-testid="setup-start" onClick={next}>
              {t("welcomeStart")}
            </button>
          </div>
        )}
        {step === "pin" && (
          <form class="stack" key="pin" onSubmit={submitPin} noValidate>
            <ScreenTitle>{t("setPinTitle")}</ScreenTitle>
            <p>{t("setPinText")}</p>
            <PinField label={t("pinNew")} value={pin} onValue={setPin} help={t("pinHintDigits")} autoComplete="new-password" />
            <StrengthMeter pin={pin} />
            <PinField label={t("pinRepeat")} value={pin2} onValue={setPin2} autoComplete="new-password" />
            {error && <Notice kind="error">{error}</Notice>}
            <button type="submit" class="btn btn-primary btn-block" data-testid="setup-pin-submit" disabled={busy}>
              {t("setPinButton")}
            </button>
          </form>
        )}
        {step === "biometric" && (
          <div class="stack" key="bio">
            <div class="hero-glyph glyph-bio" aria-hidden="true" />
            <ScreenTitle>{t("biometricTitle")}</ScreenTitle>
            <p>{t("biometricText")}</p>
            {error && <Notice kind="error">{error}</Notice>}
            <button
              type="button"
              class="btn btn-primary btn-block"
              onClick={async () => {
                try {
                  setStatus(await ipc.setBiometric(true));
                  next();
                } catch (err) {
                  setError(errorSentence(err as IpcError));
                }
              }}
            >
              {t("biometricEnable")}
            </button>
            <button type="button" class="btn btn-ghost btn-block" data-testid="setup-skip" onClick={next}>
              {t("skip")}
            </button>
          </div>
        )}
        {step === "notifications" && (
          <div class="stack" key="notif">
            <div class="hero-glyph glyph-bell" aria-hidden="true" />
            <ScreenTitle>{t("notifTitle")}</ScreenTitle>
            <p>{t("notifText")}</p>
            <NotificationHelp status={status} onStatus={setStatus} />
            <button
              type="button"
              class={`btn btn-block ${status.notifications === "granted" ? "btn-primary" : "btn-ghost"}`}
              data-testid="setup-next"
              onClick={next}
            >
              {status.notifications === "granted" ? t("continue") : t("skip")}
            </button>
          </div>
        )}
        {step === "done" && (
          <div class="stack" key="done">
            <div class="hero-glyph glyph-done" aria-hidden="true" />
            <ScreenTitle>{t("setupDoneTitle")}</ScreenTitle>
            <p>{t("setupDoneText")}</p>
            <button type="button" class="btn btn-primary btn-block" data-testid="setup-finish" onClick={() => onStatus(status)}>
              {t("setupFinish")}
            </button>
          </div>
        )}
      </div>
    </main>
  );
}
