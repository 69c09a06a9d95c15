import { useState } from "preact/hooks";
import { ipc } from "../lib/ipc";
import { errorSentence } from "../lib/errors";
import { t, tn, type Key } from "../lib/i18n";
import { announce } from "../lib/announce";
import { buildOtpauthUri, DEFAULT_KEY, type ManualKey } from "../lib/otpauth";
import { isMobile, type AddResult, type AppStatus, type IpcError } from "../lib/types";
import { Field, fileBytes, Notice, ScreenTitle } from "../components/ui";

type Method = "scan" | "paste" | "image" | "manual" | "google" | "backup";

const METHODS: { m: Method; title: Key; hint: Key }[] = [
  { m: "scan", title: "addScan", hint: "addScanHint" },
  { m: "paste", title: "addPaste", hint: "addPasteHint" },
  { m: "image", title: "addImage", hint: "addImageHint" },
  { m: "manual", title: "addManual", hint: "addManualHint" },
  { m: "google", title: "addGoogle", hint: "addGoogleHint" },
  { m: "backup", title: "addBackup", hint: "addBackupHint" },
];

export function AddAccount({ status, onDone }: { status: AppStatus; onDone: () => void }) {
  const [method, setMethod] = useState<Method | null>(null);
  const [result, setResult] = useState<AddResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const run = async (f: () => Promise<AddResult>) => {
    setBusy(true);
    setError(null);
    try {
      const r = await f();
      setResult(r);
      if (r.type === "pushEnrolled") announce(t("addedPush"));
      if (r.type === "otpAdded") announce(tn("addedOtp", r.ids.length));
    } catch (e) {
      const err = e as IpcError;
      if (err.kind !== "cancelled") setError(errorSentence(err));
    } finally {
      setBusy(false);
    }
  };

  const reset = () => {
    setMethod(null);
    setResult(null);
    setError(null);
  };

  if (result?.type === "smsRequired") {
    return <SmsStep pendingId={result.pendingId} onResult={setResult} onCancel={reset} />;
  }
  if (result) {
    return (
      <section class="narrow stack">
        <div class="hero-glyph glyph-done" aria-hidden="true" />
        <ScreenTitle>{result.type === "pushEnrolled" ? t("addedPush") : tn("addedOtp", result.ids.length)}</ScreenTitle>
        {result.type === "otpAdded" && result.skipped.length > 0 && (
          <Notice kind="warn">
            <strong>{t("skippedTitle")}</strong>
            <ul>
              {result.skipped.map((s) => (
                <li key={s.name}>
                  {s.name}: {s.reason}
                </li>
              ))}
            </ul>
          </Notice>
        )}
        <div class="row">
          <button type="button" class="btn btn-primary" data-testid="add-done" onClick={onDone}>
            {t("toAccounts")}
          </button>
          <button type="button" class="btn btn-ghost" onClick={reset}>
            {t("addAnother")}
          </button>
        </div>
      </section>
    );
  }

  const available = METHODS.filter((x) => x.m !== "scan" || isMobile(status.platform));
  return (
    <section class="narrow stack" aria-labelledby="add-title">
      {!method ? (
        <>
          <ScreenTitle id="add-title">{t("addTitle")}</ScreenTitle>
          <p class="lead">{t("addIntro")}</p>
          <ul class="method-list">
            {available.map((x) => (
              <li key={x.m}>
                <button
                  type="button"
                  class="method"
                  data-testid={`add-method-${x.m}`}
                  onClick={() => {
                    if (x.m === "scan") {
                      void run(async () => {
                        const { scan, Format } = await import("@tauri-apps/plugin-barcode-scanner");
                        const r = await scan({ formats: [Format.QRCode], windowed: false });
                        return ipc.addFromText(r.content);
                      });
                    } else setMethod(x.m);
                  }}
                >
                  <span class={`method-icon mi-${x.m}`} aria-hidden="true" />
                  <span class="method-text">
                    <span class="method-title">{t(x.title)}</span>
                    <span class="method-hint">{t(x.hint)}</span>
                  </span>
                  <span class="chev-right" aria-hidden="true" />
                </button>
              </li>
            ))}
          </ul>
          {error && <Notice kind="error">{error}</Notice>}
        </>
      ) : (
        <>
          <button type="button" class="btn btn-ghost btn-small back" onClick={reset}>
            ← {t("back")}
          </button>
          <ScreenTitle id="add-title">{t(METHODS.find((x) => x.m === method)!.title)}</ScreenTitle>
          {method === "paste" && <TextForm label={t("pasteLabel")} help={t("pasteHelp")} busy={busy} onSubmit={(s) => run(() => ipc.addFromText(s))} />}
          {method === "google" && <TextForm label={t("googleLabel")} help={t("googleHelp")} busy={busy} onSubmit={(s) => run(() => ipc.addFromText(s))} withImage onImage={(b) => run(() => ipc.addFromQrImage(b))} />}
          {method === "image" && <ImageForm busy={busy} onBytes={(b) => run(() => ipc.addFromQrImage(b))} />}
          {method === "manual" && <ManualForm busy={busy} onUri={(u) => run(() => ipc.addFromText(u))} />}
          {method === "backup" && <BackupForm busy={busy} onSubmit={(b, p) => run(() => ipc.importExportFile(b, p))} />}
          {error && <Notice kind="error">{error}</Notice>}
        </>
      )}
    </section>
  );
}

function TextForm(p: {
  label: string;
  help: string;
  busy: boolean;
  onSubmit: (s: string) => void;
  withImage?: boolean;
  onImage?: (b: Uint8Array) => void;
}) {
  const [text, setText] = useState("");
  const [err, setErr] = useState<string | null>(null);
  return (
    <form
      class="stack"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        if (!text.trim()) return setErr(t("required"));
        setErr(null);
        p.onSubmit(text.trim());
      }}
    >
      <p class="help-block">{p.help}</p>
      <div class="field">
        <label for="add-text">{p.label}</label>
        <textarea
          id="add-text"
          class="input textarea"
          rows={3}
          value={text}
          spellcheck={false}
          autoComplete="off"
          aria-invalid={err ? true : undefined}
          aria-describedby={err ? "add-text-err" : undefined}
          onInput={(e) => setText((e.target as HTMLTextAreaElement).value)}
        />
        {err && <p id="add-text-err" class="field-error">{err}</p>}
      </div>
      <button type="submit" class="btn btn-primary" data-testid="add-text-submit" disabled={p.busy}>
        {t("pasteButton")}
      </button>
      {p.withImage && p.onImage && <ImageForm busy={p.busy} onBytes={p.onImage} />}
    </form>
  );
}

function ImageForm({ busy, onBytes }: { busy: boolean; onBytes: (b: Uint8Array) => void }) {
  return (
    <div class="field">
      <label class="file-drop" for="qr-file">
        <span class="method-icon mi-image" aria-hidden="true" />
        <span>
          <strong>{t("imageChoose")}</strong>
          <span class="method-hint">{t("addImageHint")}</span>
        </span>
      </label>
      <input
        id="qr-file"
        class="file-input"
        type="file"
        accept="image/png,image/jpeg"
        disabled={busy}
        aria-label={t("imageLabel")}
        onChange={async (e) => {
          const f = (e.target as HTMLInputElement).files?.[0];
          if (f) onBytes(await fileBytes(f));
          (e.target as HTMLInputElement).value = "";
        }}
      />
    </div>
  );
}

function ManualForm({ busy, onUri }: { busy: boolean; onUri: (u: string) => void }) {
  const [k, setK] = useState<ManualKey>({ ...DEFAULT_KEY, issuer: "", name: "", secret: "" });
  const [errs, setErrs] = useState<{ name?: string; secret?: string }>({});
  const set = <F extends keyof ManualKey>(f: F) => (v: ManualKey[F]) => setK((o) => ({ ...o, [f]: v }));
  const submit = (e: Event) => {
    e.preventDefault();
    const es: typeof errs = {};
    if (!k.name.trim()) es.name = t("required");
    if (!k.secret.trim()) es.secret = t("required");
    setErrs(es);
    if (es.name || es.secret) return;
    try {
      onUri(buildOtpauthUri(k));
    } catch (x) {
      const m = (x as Error).message;
      setErrs(m === "invalidSecret" ? { secret: t("invalidSecret") } : { name: t("required") });
    }
  };
  return (
    <form class="stack" noValidate onSubmit={submit}>
      <Field label={t("manualIssuer")} value={k.issuer} onValue={set("issuer")} autoComplete="off" />
      <Field label={t("manualName")} value={k.name} onValue={set("name")} error={errs.name} autoComplete="off" required />
      <Field
        label={t("manualSecret")}
        value={k.secret}
        onValue={set("secret")}
        help={t("manualSecretHelp")}
        error={errs.secret}
        autoComplete="off"
        spellcheck={false}
        class="mono"
        required
      />
      <details class="advanced">
        <summary>{t("manualAdvanced")}</summary>
        <div class="grid-2">
          <Select label={t("manualType")} value={k.type} onValue={(v) => set("type")(v as ManualKey["type"])} options={[["totp", t("manualTypeTotp")], ["hotp", t("manualTypeHotp")]]} />
          <Select label={t("manualAlgorithm")} value={k.algorithm} onValue={(v) => set("algorithm")(v as ManualKey["algorithm"])} options={[["SHA1", "SHA-1"], ["SHA256", "SHA-256"], ["SHA512", "SHA-512"]]} />
          <Select label={t("manualDigits")} value={String(k.digits)} onValue={(v) => set("digits")(Number(v))} options={[["6", "6"], ["7", "7"], ["8", "8"]]} />
          {k.type === "totp" ? (
            <Select label={t("manualPeriod")} value={String(k.period)} onValue={(v) => set("period")(Number(v))} options={[["30", "30"], ["60", "60"], ["90", "90"]]} />
          ) : (
            <Field label={t("manualCounter")} value={String(k.counter)} onValue={(v) => set("counter")(Number(v.replace(/\D/g, "")) || 0)} inputMode="numeric" />
          )}
        </div>
      </details>
      <button type="submit" class="btn btn-primary" disabled={busy}>
        {t("pasteButton")}
      </button>
    </form>
  );
}

export function Select(p: { label: string; value: string; onValue: (v: string) => void; options: [string, string][]; id?: string }) {
  const id = p.id ?? `sel-${p.label.replace(/\W+/g, "-")}`;
  return (
    <div class="field">
      <label for={id}>{p.label}</label>
      <select id={id} class="input select" value={p.value} onChange={(e) => p.onValue((e.target as HTMLSelectElement).value)}>
        {p.options.map(([v, l]) => (
          <option key={v} value={v}>
            {l}
          </option>
        ))}
      </select>
    </div>
  );
}

function BackupForm({ busy, onSubmit }: { busy: boolean; onSubmit: (b: Uint8Array, pass: string) => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [pass, setPass] = useState("");
  const [err, setErr] = useState<string | null>(null);
  return (
    <form
      class="stack"
      noValidate
      onSubmit={async (e) => {
        e.preventDefault();
        if (!file || !pass) return setErr(t("required"));
        setErr(null);
        onSubmit(await fileBytes(file), pass);
      }}
    >
      <Notice kind="info" live={false}>{t("backupHelp")}</Notice>
      <div class="field">
        <label for="backup-file">{t("backupFile")}</label>
        <input id="backup-file" class="input" type="file" accept=".identbackup,.ident,.json,application/json" onChange={(e) => setFile((e.target as HTMLInputElement).files?.[0] ?? null)} />
      </div>
      <Field label={t("backupPassphrase")} type="password" value={pass} onValue={setPass} autoComplete="off" />
      {err && <p class="field-error" role="alert">{err}</p>}
      <button type="submit" class="btn btn-primary" disabled={busy}>
        {t("importButton")}
      </button>
    </form>
  );
}

function SmsStep(p: { pendingId: string; onResult: (r: AddResult) => void; onCancel: () => void }) {
  const [code, setCode] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // Set once the service has ended the enrollment: no code helps any more.
  const [over, setOver] = useState<string | null>(null);
  if (over) {
    return (
      <section class="narrow stack">
        <div class="hero-glyph glyph-sms" aria-hidden="true" />
        <ScreenTitle focus>{t("smsTitle")}</ScreenTitle>
        <Notice kind="error" live>
          {over}
        </Notice>
        <div class="row">
          <button type="button" class="btn btn-primary" onClick={p.onCancel}>
            {t("smsStartAgain")}
          </button>
        </div>
      </section>
    );
  }
  return (
    <section class="narrow stack">
      <div class="hero-glyph glyph-sms" aria-hidden="true" />
      <ScreenTitle>{t("smsTitle")}</ScreenTitle>
      <p>{t("smsText")}</p>
      <form
        class="stack"
        noValidate
        onSubmit={async (e) => {
          e.preventDefault();
          if (!code) return setError(t("required"));
          setBusy(true);
          setError(null);
          try {
            const r = await ipc.confirmEnrollment(p.pendingId, code);
            if (r.type === "pushEnrolled") announce(t("addedPush"));
            p.onResult(r);
          } catch (x) {
            const err = x as IpcError;
            if (err.kind === "smsCodeExpired") setOver(errorSentence(err));
            else setError(errorSentence(err));
          } finally {
            setBusy(false);
          }
        }}
      >
        <Field
          label={t("smsLabel")}
          value={code}
          onValue={(v) => setCode(v.replace(/\D/g, ""))}
          inputMode="numeric"
          autoComplete="one-time-code"
          maxLength={10}
          big
          error={error}
        />
        <div class="row">
          <button type="submit" class="btn btn-primary" disabled={busy}>
            {t("smsButton")}
          </button>
          <button type="button" class="btn btn-ghost" onClick={p.onCancel}>
            {t("cancel")}
          </button>
        </div>
      </form>
    </section>
  );
}
