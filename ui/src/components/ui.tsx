import type { ComponentChildren, InputHTMLAttributes } from "preact";
import { useEffect, useId, useRef, useState } from "preact/hooks";
import { onLangChange } from "../lib/i18n";
import { t, type Key } from "../lib/i18n";
import { pinStrength, PIN_MIN } from "../lib/pin";

/** Re-render on language change. */
export function useLang() {
  const [, setN] = useState(0);
  useEffect(() => {
    const off = onLangChange(() => setN((n) => n + 1));
    return () => void off();
  }, []);
}

/** Current time, ticking every `ms` while mounted. */
export function useNow(ms = 1000) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const h = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(h);
  }, [ms]);
  return now;
}

/** A screen heading that takes focus when it mounts (screen changes). */
export function ScreenTitle(props: { children: ComponentChildren; level?: 1 | 2; id?: string; focus?: boolean }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (props.focus !== false) ref.current?.focus({ preventScroll: false });
  }, []);
  const H = props.level === 2 ? "h2" : "h1";
  return (
    <H ref={ref} tabIndex={-1} id={props.id} class="screen-title">
      {props.children}
    </H>
  );
}

// Distributes over the union by `type` that Preact 11 types <input> with.
type DistOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type InputProps = DistOmit<InputHTMLAttributes<HTMLInputElement>, "label" | "onInput" | "value"> & {
  label: string;
  help?: string;
  error?: string | null;
  value: string;
  onValue: (v: string) => void;
  big?: boolean;
};
export function Field({ label, help, error, value, onValue, big, class: cls, ...rest }: InputProps) {
  const id = useId();
  const helpId = help ? `${id}-help` : undefined;
  const errId = error ? `${id}-err` : undefined;
  return (
    <div class={`field ${cls ?? ""}`}>
      <label for={id}>{label}</label>
      <input
        id={id}
        class={big ? "input input-big" : "input"}
        value={value}
        onInput={(e) => onValue((e.target as HTMLInputElement).value)}
        aria-describedby={[helpId, errId].filter(Boolean).join(" ") || undefined}
        aria-invalid={error ? true : undefined}
        {...rest}
      />
      {help && (
        <p id={helpId} class="help">
          {help}
        </p>
      )}
      {error && (
        <p id={errId} class="field-error">
          {error}
        </p>
      )}
    </div>
  );
}

/** A numeric secret field (PIN) with a show/hide toggle. */
export function PinField(props: {
  label: string;
  value: string;
  onValue: (v: string) => void;
  error?: string | null;
  help?: string;
  autoFocus?: boolean;
  autoComplete?: string;
  disabled?: boolean;
  name?: string;
}) {
  const [visible, setVisible] = useState(false);
  const id = useId();
  const helpId = props.help ? `${id}-help` : undefined;
  const errId = props.error ? `${id}-err` : undefined;
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <div class="input-row">
        <input
          id={id}
          name={props.name}
          class="input input-pin"
          {...(visible ? { type: "text" as const } : { type: "password" as const })}
          inputMode="numeric"
          pattern="[0-9]*"
          autoComplete={props.autoComplete ?? "off"}
          maxLength={32}
          value={props.value}
          disabled={props.disabled}
          autoFocus={props.autoFocus}
          aria-describedby={[helpId, errId].filter(Boolean).join(" ") || undefined}
          aria-invalid={props.error ? true : undefined}
          onInput={(e) => props.onValue((e.target as HTMLInputElement).value.replace(/\D/g, ""))}
        />
        <button
          type="button"
          class="btn btn-ghost btn-small"
          aria-pressed={visible}
          aria-controls={id}
          onClick={() => setVisible(!visible)}
        >
          {visible ? t("hide") : t("show")}
        </button>
      </div>
      {props.help && (
        <p id={helpId} class="help">
          {props.help}
        </p>
      )}
      {props.error && (
        <p id={errId} class="field-error" role="alert">
          {props.error}
        </p>
      )}
    </div>
  );
}

const ISSUE_KEY: Record<string, Key> = {
  tooShort: "strengthTooShort",
  repeated: "strengthRepeated",
  sequence: "strengthSequence",
  common: "strengthCommon",
  date: "strengthDate",
};
export function StrengthMeter({ pin }: { pin: string }) {
  if (!pin) return null;
  const s = pinStrength(pin);
  const label = [t("strengthWeak"), t("strengthFair"), t("strengthGood")][s.level];
  return (
    <div class="strength" aria-live="polite">
      <div class="strength-head">
        <span>{t("strengthLabel")}:</span> <strong class={`strength-word lvl-${s.level}`}>{label}</strong>
      </div>
      <div class={`strength-bar lvl-${s.level}`} aria-hidden="true">
        <span />
        <span />
        <span />
      </div>
      <ul class="strength-issues">
        {pin.length < PIN_MIN && <li>{t("pinTooShortMin")}</li>}
        {s.issues.map((i) => (
          <li key={i}>{t(ISSUE_KEY[i])}</li>
        ))}
        {s.issues.length === 0 && <li class="ok">{t("strengthOk")}</li>}
      </ul>
    </div>
  );
}

export function Notice(props: { kind?: "error" | "info" | "success" | "warn"; children: ComponentChildren; live?: boolean }) {
  const kind = props.kind ?? "info";
  return (
    <div class={`notice notice-${kind}`} role={props.live === false ? undefined : kind === "error" ? "alert" : "status"}>
      <span class="notice-icon" aria-hidden="true">
        {kind === "error" ? "!" : kind === "success" ? "✓" : kind === "warn" ? "!" : "i"}
      </span>
      <div>{props.children}</div>
    </div>
  );
}

export function Spinner() {
  return <span class="spinner" aria-hidden="true" />;
}

/** Reads a File into bytes. */
export async function fileBytes(f: File): Promise<Uint8Array> {
  return new Uint8Array(await f.arrayBuffer());
}
