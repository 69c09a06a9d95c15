import { useCallback, useEffect, useState } from "preact/hooks";
import { listen } from "@tauri-apps/api/event";
import { ipc } from "./lib/ipc";
import { setLang, systemLang, t } from "./lib/i18n";
import type { AppStatus, ChallengeView } from "./lib/types";
import { useLang, Spinner } from "./components/ui";
import { Setup } from "./screens/Setup";
import { Unlock } from "./screens/Unlock";
import { Accounts } from "./screens/Accounts";
import { AddAccount } from "./screens/AddAccount";
import { Settings } from "./screens/Settings";
import { ChallengeDialog } from "./screens/Challenge";

export type View = "accounts" | "add" | "settings";

export function App() {
  useLang();
  const [status, setStatus] = useState<AppStatus | null>(null);
  const [view, setView] = useState<View>("accounts");
  const [challenges, setChallenges] = useState<ChallengeView[]>([]);
  const [closed, setClosed] = useState<Set<string>>(new Set());
  const [resetup, setResetup] = useState(false);
  const [accountsVersion, setAccountsVersion] = useState(0);

  const apply = useCallback((s: AppStatus) => {
    setLang(s.language);
    setStatus(s);
  }, []);

  useEffect(() => {
    setLang(systemLang());
    ipc.appStatus().then(apply, () => setStatus(null));
    const offs = [
      listen<ChallengeView>("challenge-arrived", (e) => {
        setChallenges((cs) => (cs.some((c) => c.challengeId === e.payload.challengeId) ? cs : [...cs, e.payload]));
      }),
      listen<{ challengeId: string }>("challenge-closed", (e) => {
        setClosed((s) => new Set(s).add(e.payload.challengeId));
      }),
      listen("locked", () => {
        ipc.appStatus().then(apply);
      }),
    ];
    return () => offs.forEach((p) => p.then((off) => off()));
  }, []);

  const unlocked = !!status?.unlocked;
  useEffect(() => {
    if (!unlocked) return;
    ipc.pendingChallenges().then(
      (cs) => setChallenges((old) => [...old, ...cs.filter((c) => !old.some((o) => o.challengeId === c.challengeId))]),
      () => {},
    );
  }, [unlocked]);

  if (!status) {
    return (
      <main class="center-screen" aria-busy="true">
        <Spinner /> <span>{t("loading")}</span>
      </main>
    );
  }
  // A vault locked for good is replaced by a new one: setup_vault destroys it.
  if (!status.vaultExists || (resetup && !status.unlocked)) {
    return (
      <Setup
        status={status}
        onStatus={(s) => {
          setResetup(false);
          apply(s);
        }}
      />
    );
  }
  if (!status.unlocked) return <Unlock status={status} onStatus={apply} onResetup={() => setResetup(true)} />;

  const dismiss = (id: string) => {
    setChallenges((cs) => cs.filter((c) => c.challengeId !== id));
    setClosed((s) => {
      const n = new Set(s);
      n.delete(id);
      return n;
    });
  };

  return (
    <div class="shell">
      <a class="skip-link" href="#main">
        {t("skipToContent")}
      </a>
      <header class="topbar">
        <div class="brand">
          <img src="./icon.svg" alt="" width={28} height={28} />
          <span>{t("appName")}</span>
        </div>
        <nav aria-label={t("mainNav")} class="nav">
          {(["accounts", "add", "settings"] as View[]).map((v) => (
            <button
              key={v}
              type="button"
              class={`nav-btn ${view === v ? "active" : ""}`}
              data-testid={`nav-${v}`}
              aria-current={view === v ? "page" : undefined}
              onClick={() => setView(v)}
            >
              <span class={`nav-icon icon-${v}`} aria-hidden="true" />
              <span class="nav-label">{t(v === "accounts" ? "navAccounts" : v === "add" ? "navAdd" : "navSettings")}</span>
            </button>
          ))}
          <button type="button" class="nav-btn" onClick={() => ipc.lock().then(apply)}>
            <span class="nav-icon icon-lock" aria-hidden="true" />
            <span class="nav-label">{t("navLock")}</span>
          </button>
        </nav>
      </header>
      <main id="main" class="content">
        {view === "accounts" && <Accounts key={accountsVersion} onAdd={() => setView("add")} />}
        {view === "add" && (
          <AddAccount
            status={status}
            onDone={() => {
              setAccountsVersion((v) => v + 1);
              setView("accounts");
            }}
          />
        )}
        {view === "settings" && <Settings status={status} onStatus={apply} />}
      </main>
      {challenges.length > 0 && (
        <ChallengeDialog
          key={challenges[0].challengeId}
          challenge={challenges[0]}
          closedElsewhere={closed.has(challenges[0].challengeId)}
          waiting={challenges.length - 1}
          platform={status.platform}
          onDone={() => dismiss(challenges[0].challengeId)}
        />
      )}
    </div>
  );
}
