import { useEffect, useState } from "preact/hooks";
import { getVersion } from "@tauri-apps/api/app";
import { ipc } from "../lib/ipc";
import { errorSentence } from "../lib/errors";
import { t, tn } from "../lib/i18n";
import { announce } from "../lib/announce";
import { isDigits, PIN_MIN } from "../lib/pin";
import type { AppStatus, IpcError } from "../lib/types";
import { Field, Notice, PinField, ScreenTitle, StrengthMeter } from "../components/ui";
import { NotificationHelp } from "../components/Notifications";
import { Select } from "./AddAccount";

const LOCK_CHOICES = [0, 60, 300, 900, 3600, -1];

export function Settings({ status, onStatus }: { status: AppStatus; onStatus: (s: AppStatus) => void }) {
  const [error, setError] = useState<string | null>(null);
  const guard = async (f: () => Promise<AppStatus>) => {
    setError(null);
    try {
      onStatus(await f());
      announce(t("saved"));
    } catch (e) {
      setError(errorSentence(e as IpcError));
    }
  };
  const lockLabel = (s: number) =>
    s < 0 ? t("lockNever") : s === 0 ? t("lockImmediately") : tn("lockMinutes", s / 60);
  return (
    <section class="settings narrow stack" aria-labelledby="settings-title">
      <ScreenTitle id="settings-title">{t("settingsTitle")}</ScreenTitle>
      {error && <Notice kind="error">{error}</Notice>}

      <section class="card stack" aria-labelledby="s-general">
        <h2 id="s-general" class="section-title">{t("secGeneral")}</h2>
        <Select
          id="set-lang"
          label={t("language")}
          value={status.languageSetting ?? "system"}
          onValue={(v) => guard(() => ipc.setLanguage(v as "de" | "en" | "system"))}
          options={[["system", t("langSystem")], ["de", t("langDe")], ["en", t("langEn")]]}
        />
        <div class="stack-tight">
          <h3 class="subhead">{t("notifSetting")}</h3>
          <NotificationHelp status={status} onStatus={onStatus} />
        </div>
      </section>

      <section class="card stack" aria-labelledby="s-security">
        <h2 id="s-security" class="section-title">{t("secSecurity")}</h2>
        <Select
          id="set-lock"
          label={t("lockTimeout")}
          value={String(status.lockTimeoutSeconds ?? 300)}
          onValue={(v) => guard(() => ipc.setLockTimeout(Number(v)))}
          options={LOCK_CHOICES.map((s) => [String(s), lockLabel(s)])}
        />
        <div class="switch-row">
          <label for="set-bio" class="switch-label">
            {t("biometricSetting")}
            {!status.biometricAvailable && <span class="help">{t("biometricUnavailable")}</span>}
          </label>
          <input
            id="set-bio"
            type="checkbox"
            role="switch"
            class="switch"
            checked={status.biometricEnabled}
            disabled={!status.biometricAvailable}
            onChange={(e) => guard(() => ipc.setBiometric((e.target as HTMLInputElement).checked))}
          />
        </div>
        <ChangePin onStatus={onStatus} />
      </section>

      <section class="card stack" aria-labelledby="s-backup">
        <h2 id="s-backup" class="section-title">{t("secBackup")}</h2>
        <Export />
      </section>

      <section class="card stack" aria-labelledby="s-about">
        <h2 id="s-about" class="section-title">{t("secAbout")}</h2>
        <About />
      </section>
    </section>
  );
}

function ChangePin({ onStatus }: { onStatus: (s: AppStatus) => void }) {
  const [open, setOpen] = useState(false);
  const [oldPin, setOld] = useState("");
  const [pin, setPin] = useState("");
  const [pin2, setPin2] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  if (!open)
    return (
      <div>
        {done && <Notice kind="success">{t("pinChanged")}</Notice>}
        <button type="button" class="btn btn-secondary" aria-expanded="false" onClick={() => { setOpen(true); setDone(false); }}>
          {t("changePin")}
        </button>
      </div>
    );
  return (
    <form
      class="stack subcard"
      noValidate
      onSubmit={async (e) => {
        e.preventDefault();
        setError(null);
        if (!isDigits(pin)) return setError(t("pinDigitsOnly"));
        if (pin.length < PIN_MIN) return setError(t("pinTooShortMin"));
        if (pin !== pin2) return setError(t("pinMismatchLocal"));
        try {
          onStatus(await ipc.changePin(oldPin, pin));
          setOpen(false);
          setDone(true);
          setOld(""); setPin(""); setPin2("");
        } catch (x) {
          setError(errorSentence(x as IpcError));
        }
      }}
    >
      <h3 class="subhead">{t("changePin")}</h3>
      <PinField label={t("pinOld")} value={oldPin} onValue={setOld} autoComplete="current-password" />
      <PinField label={t("pinNew")} value={pin} onValue={setPin} help={t("pinHintDigits")} autoComplete="new-password" />
      <StrengthMeter pin={pin} />
      <PinField label={t("pinRepeat")} value={pin2} onValue={setPin2} autoComplete="new-password" />
      {error && <Notice kind="error">{error}</Notice>}
      <div class="row">
        <button type="submit" class="btn btn-primary">{t("changePinButton")}</button>
        <button type="button" class="btn btn-ghost" onClick={() => setOpen(false)}>{t("cancel")}</button>
      </div>
    </form>
  );
}

function Export() {
  const [p1, setP1] = useState("");
  const [p2, setP2] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <form
      class="stack"
      noValidate
      onSubmit={async (e) => {
        e.preventDefault();
        setError(null);
        setDone(null);
        if (p1.length < 8) return setError(t("exportPassShort"));
        if (p1 !== p2) return setError(t("exportPassMismatch"));
        setBusy(true);
        try {
          // The shell writes the file (a Blob download link is ignored by
          // some web views) and says where.
          const r = await ipc.exportVault(p1);
          setDone(r.path); // the success notice is a live region (role=status)
          setP1(""); setP2("");
        } catch (x) {
          const e = x as IpcError;
          setError(e.kind === "internal" && e.detail === "storage" ? t("exportNotSaved") : errorSentence(e));
        } finally {
          setBusy(false);
        }
      }}
    >
      <p class="muted">{t("exportText")}</p>
      <Field label={t("exportPass")} type="password" value={p1} onValue={setP1} autoComplete="new-password" />
      <Field label={t("exportPassRepeat")} type="password" value={p2} onValue={setP2} autoComplete="new-password" />
      {error && <Notice kind="error">{error}</Notice>}
      {done && (
        <Notice kind="success">
          <span data-testid="export-done">
            {t("exportSavedAt")} <code class="path" data-testid="export-path">{done}</code>
          </span>
          <br />
          {t("exportKeepApart")}
        </Notice>
      )}
      <div>
        <button type="submit" class="btn btn-secondary" disabled={busy} data-testid="export-submit">{t("exportButton")}</button>
      </div>
    </form>
  );
}

const LICENCES: [string, string][] = [
  ["Preact", "MIT"],
  ["@tauri-apps/api", "Apache-2.0 OR MIT"],
  ["@tauri-apps/plugin-barcode-scanner", "Apache-2.0 OR MIT"],
  ["Tauri", "Apache-2.0 OR MIT"],
];

function About() {
  const [version, setVersion] = useState<string>(__APP_VERSION__);
  useEffect(() => {
    getVersion().then(setVersion, () => {});
  }, []);
  return (
    <div class="stack-tight">
      <dl class="facts">
        <div>
          <dt>{t("version")}</dt>
          <dd>{version}</dd>
        </div>
      </dl>
      <p>{t("licenceApp")}</p>
      <details>
        <summary>{t("licences")}</summary>
        <ul class="licences">
          {LICENCES.map(([n, l]) => (
            <li key={n}>
              <span>{n}</span> <span class="muted">{l}</span>
            </li>
          ))}
        </ul>
      </details>
    </div>
  );
}
