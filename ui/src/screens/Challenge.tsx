import { useEffect, useRef, useState } from "preact/hooks";
import { ipc } from "../lib/ipc";
import { errorSentence } from "../lib/errors";
import { crossedMilestone, formatDuration, secondsLeft } from "../lib/countdown";
import { formatDateTime, t, tn } from "../lib/i18n";
import { announce } from "../lib/announce";
import { describeUserAgent } from "../lib/useragent";
import { isMobile, type ChallengeView, type IpcError, type Platform, type RecentAnswer } from "../lib/types";
import { Dialog } from "../components/Dialog";
import { Notice, PinField, useNow } from "../components/ui";
import { RecentList } from "./Accounts";

type Phase = "ask" | "deny" | "result";
interface Result { outcome: "approved" | "denied"; notMe: boolean; triedApprove: boolean }

export function ChallengeDialog(p: {
  challenge: ChallengeView;
  closedElsewhere: boolean;
  waiting: number;
  platform: Platform;
  onDone: () => void;
}) {
  const c = p.challenge;
  const mobile = isMobile(p.platform);
  const now = useNow(500);
  const left = secondsLeft(c.expiresAt, now);
  const prevLeft = useRef(left);
  const [phase, setPhase] = useState<Phase>("ask");
  const [number, setNumber] = useState("");
  const [pin, setPin] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [numErr, setNumErr] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<Result | null>(null);
  const [recent, setRecent] = useState<RecentAnswer[] | null>(null);
  const numberRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (phase !== "ask") return;
    const m = crossedMilestone(prevLeft.current, left);
    if (m !== null) announce(t("chExpiresLive", { n: m }));
    if (prevLeft.current > 0 && left === 0) announce(t("chExpired"), "assertive");
    prevLeft.current = left;
  }, [left]);

  const expired = left === 0 && phase !== "result";
  const gone = p.closedElsewhere && phase !== "result";

  const answer = async (approve: boolean, notMe = false) => {
    setError(null);
    if (approve && c.numberRequired && !/^\d{2,6}$/.test(number)) {
      setNumErr(number ? t("err_wrongNumberFormat") : t("chNumberRequired"));
      numberRef.current?.focus();
      return;
    }
    // Desktop: approving and denying both need the app PIN (the shell checks it).
    if (!mobile && !pin) {
      setError(t("required"));
      return;
    }
    setBusy(true);
    try {
      const r = await ipc.answerChallenge({
        challengeId: c.challengeId,
        approve,
        ...(approve && c.numberRequired ? { number } : {}),
        ...(notMe ? { notMe: true } : {}),
        ...(!mobile ? { pin } : {}),
      });
      const res = { outcome: r.outcome, notMe, triedApprove: approve };
      setResult(res);
      setPhase("result");
      announce(r.outcome === "approved" ? t("chApproved") : t("chDenied"), "assertive");
      ipc.recentAnswers(c.accountId).then(setRecent, () => setRecent([]));
    } catch (x) {
      const err = x as IpcError;
      setPin("");
      if (err.kind !== "cancelled") setError(errorSentence(err));
    } finally {
      setBusy(false);
    }
  };

  const title =
    phase === "result" && result
      ? result.outcome === "approved"
        ? t("chApproved")
        : t("chDenied")
      : phase === "deny"
        ? t("chDenyTitle")
        : t("challengeTitle");

  return (
    <Dialog title={title} onClose={p.onDone} class={`challenge phase-${phase}`} key={phase}>
      {phase === "result" && result ? (
        <div class="stack">
          <div class={`result-badge ${result.outcome === "approved" ? "ok" : "bad"}`} aria-hidden="true" />
          <p class="lead">
            {result.outcome === "approved"
              ? t("chApprovedText")
              : result.notMe
                ? t("chDeniedNotMe")
                : result.triedApprove
                  ? t("chDeniedNumber")
                  : t("chDeniedText")}
          </p>
          <section aria-labelledby="recent-h">
            <h3 class="subhead" id="recent-h">
              {t("recentTitle")} · {c.accountName}
            </h3>
            <RecentList items={recent} />
          </section>
          <div class="dialog-actions">
            <button type="button" class="btn btn-primary" data-testid="ch-done" onClick={p.onDone}>
              {p.waiting > 0 ? t("chNext") : t("done")}
            </button>
          </div>
        </div>
      ) : (
        <div class="stack">
          {phase === "ask" && <p class="muted">{t("challengeIntro")}</p>}
          <div class={`expiry ${left <= 10 ? "urgent" : ""}`} role="timer" aria-live="off">
            <span class="expiry-icon" aria-hidden="true" />
            {expired ? t("err_challengeExpired") : t("chExpiresIn", { time: formatDuration(left) })}
          </div>
          <dl class="facts facts-challenge">
            <div>
              <dt>{t("chService")}</dt>
              <dd>{c.service}</dd>
            </div>
            <div>
              <dt>{t("chAccount")}</dt>
              <dd>
                {c.accountName}
                {c.login && <span class="muted"> · {c.login}</span>}
              </dd>
            </div>
            <div>
              <dt>{t("chTime")}</dt>
              <dd>{formatDateTime(c.issuedAt)}</dd>
            </div>
            <div>
              <dt>{t("chBrowser")}</dt>
              <dd>{describeUserAgent(c.userAgent)}</dd>
            </div>
            <div>
              <dt>{t("chIp")}</dt>
              <dd class="mono">{c.ip}</dd>
            </div>
            {c.location && (
              <div>
                <dt>{t("chLocation")}</dt>
                <dd>{c.location}</dd>
              </div>
            )}
          </dl>
          {(expired || gone) && <Notice kind="warn">{gone ? t("chClosed") : t("chExpired")}</Notice>}
          {phase === "ask" && !expired && !gone && (
            <form
              class="stack"
              noValidate
              onSubmit={(e) => {
                e.preventDefault();
                void answer(true);
              }}
            >
              {c.numberRequired && (
                <div class="field number-field">
                  <label for="ch-number">{t("chNumberLabel")}</label>
                  <input
                    id="ch-number"
                    ref={numberRef}
                    class="input input-number"
                    inputMode="numeric"
                    pattern="[0-9]*"
                    autoComplete="off"
                    maxLength={6}
                    value={number}
                    aria-describedby={`ch-number-help${numErr ? " ch-number-err" : ""}`}
                    aria-invalid={numErr ? true : undefined}
                    onInput={(e) => {
                      setNumber((e.target as HTMLInputElement).value.replace(/\D/g, ""));
                      setNumErr(null);
                    }}
                  />
                  <p id="ch-number-help" class="help">
                    {t("chNumberHelp")}
                  </p>
                  {numErr && (
                    <p id="ch-number-err" class="field-error" role="alert">
                      {numErr}
                    </p>
                  )}
                </div>
              )}
              {mobile ? (
                <p class="help">{t("chBiometricHint")}</p>
              ) : (
                <PinField label={t("chPinLabel")} value={pin} onValue={setPin} autoComplete="current-password" />
              )}
              {error && <Notice kind="error">{error}</Notice>}
              <div class="dialog-actions">
                <button type="button" class="btn btn-danger-ghost" data-testid="ch-deny" onClick={() => setPhase("deny")} disabled={busy}>
                  {t("chDeny")}
                </button>
                <button type="submit" class="btn btn-approve" data-testid="ch-approve" disabled={busy}>
                  {t("chApprove")}
                </button>
              </div>
            </form>
          )}
          {phase === "deny" && !expired && !gone && (
            <div class="stack">
              <p>{t("chDenyText")}</p>
              {!mobile && (
                <PinField label={t("chPinLabel")} value={pin} onValue={setPin} autoComplete="current-password" />
              )}
              {error && <Notice kind="error">{error}</Notice>}
              <div class="dialog-actions">
                <button type="button" class="btn btn-ghost" onClick={() => setPhase("ask")} disabled={busy}>
                  {t("back")}
                </button>
                <button type="button" class="btn btn-secondary" onClick={() => answer(false)} disabled={busy}>
                  {t("chDenyOnly")}
                </button>
                <button type="button" class="btn btn-danger" data-testid="ch-not-me" onClick={() => answer(false, true)} disabled={busy}>
                  {t("chNotMe")}
                </button>
              </div>
            </div>
          )}
          {(expired || gone) && (
            <div class="dialog-actions">
              <button type="button" class="btn btn-primary" onClick={p.onDone}>
                {t("close")}
              </button>
            </div>
          )}
          {p.waiting > 0 && <p class="muted small">{tn("chMore", p.waiting)}</p>}
        </div>
      )}
    </Dialog>
  );
}
