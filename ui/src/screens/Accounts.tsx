import { memo } from "preact/compat";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { ipc } from "../lib/ipc";
import { errorSentence } from "../lib/errors";
import { formatDateTime, t, tn } from "../lib/i18n";
import { announce } from "../lib/announce";
import { secondsLeft, totpWindow } from "../lib/countdown";
import type { AccountView, IpcError, OtpCodeView, RecentAnswer } from "../lib/types";
import { Field, Notice, PinField, ScreenTitle, Spinner } from "../components/ui";
import { Dialog } from "../components/Dialog";

// ---------- helpers ----------
export function hostOf(server: string | null): string | null {
  if (!server) return null;
  try {
    return new URL(server).host;
  } catch {
    return server;
  }
}
export function groupLabel(a: AccountView): string {
  return a.issuer || hostOf(a.server) || "";
}
export function matches(a: AccountView, q: string): boolean {
  if (!q) return true;
  const hay = `${a.name}\n${a.issuer ?? ""}\n${a.server ?? ""}\n${a.login ?? ""}`.toLowerCase();
  return q
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean)
    .every((w) => hay.includes(w));
}
export function formatCode(code: string) {
  if (code.length === 6) return `${code.slice(0, 3)} ${code.slice(3)}`;
  if (code.length === 8) return `${code.slice(0, 4)} ${code.slice(4)}`;
  return code;
}

// One IntersectionObserver for all cards: codes are only fetched for visible ones.
type VisCb = (visible: boolean) => void;
const visCallbacks = new WeakMap<Element, VisCb>();
let io: IntersectionObserver | null = null;
function observe(el: Element, cb: VisCb) {
  io ??= new IntersectionObserver(
    (entries) => entries.forEach((e) => visCallbacks.get(e.target)?.(e.isIntersecting)),
    { rootMargin: "200px 0px" },
  );
  visCallbacks.set(el, cb);
  io.observe(el);
  return () => {
    io?.unobserve(el);
    visCallbacks.delete(el);
  };
}

// Clipboard: copy, announce, clear after 30 s.
let clearTimer: ReturnType<typeof setTimeout> | undefined;
async function copyCode(code: string, onCopied: () => void) {
  try {
    await navigator.clipboard.writeText(code);
    onCopied();
    announce(t("codeCopiedClear"));
    clearTimeout(clearTimer);
    clearTimer = setTimeout(() => navigator.clipboard.writeText("").catch(() => {}), 30_000);
  } catch {
    announce(t("copyFailed"), "assertive");
  }
}

// ---------- code display ----------
function Ring({ from, until }: { from: number; until: number }) {
  const total = Math.max(1, until - from);
  const elapsed = Math.min(total, Math.max(0, Date.now() / 1000 - from));
  // The ring runs on a CSS animation (no per-second re-render of 1,000 cards);
  // duration and offset are set through CSSOM, which a strict CSP allows.
  return (
    <svg class="ring" viewBox="0 0 36 36" aria-hidden="true" key={`${from}-${until}`}>
      <circle class="ring-track" cx="18" cy="18" r="15.5" />
      <circle
        class="ring-fill"
        cx="18"
        cy="18"
        r="15.5"
        pathLength={100}
        style={{ animationDuration: `${total}s`, animationDelay: `-${elapsed}s` }}
      />
    </svg>
  );
}

function OtpCode({ account, visible, onCopied }: { account: AccountView; visible: boolean; onCopied: () => void }) {
  const [code, setCode] = useState<OtpCodeView | null>(null);
  const [err, setErr] = useState(false);
  const hotp = account.otpType === "hotp";
  const fetchCode = () =>
    ipc.otpCode(account.id).then(
      (c) => {
        setErr(false);
        setCode(c);
      },
      () => setErr(true),
    );
  useEffect(() => {
    if (!visible || hotp) return;
    if (!code || (code.validUntil && secondsLeft(code.validUntil) <= 0)) void fetchCode();
  }, [visible]);
  useEffect(() => {
    if (!visible || hotp || !code?.validUntil) return;
    const ms = Math.max(200, code.validUntil * 1000 - Date.now() + 50);
    const h = setTimeout(fetchCode, ms);
    return () => clearTimeout(h);
  }, [visible, code]);

  if (hotp && !code) {
    return (
      <button type="button" class="btn btn-secondary btn-small" onClick={fetchCode}>
        {t("hotpNext")}
      </button>
    );
  }
  if (err) return <span class="code-error" aria-hidden="true">—</span>;
  if (!code) return <span class="code code-placeholder" aria-hidden="true">••• •••</span>;
  const [from, until] =
    code.validFrom && code.validUntil
      ? [code.validFrom, code.validUntil]
      : account.period
        ? totpWindow(account.period)
        : [0, 0];
  return (
    <button
      type="button"
      class="code-btn"
      aria-label={t("copyCode", { code: formatCode(code.code) })}
      onClick={() => copyCode(code.code, onCopied)}
    >
      <span class="code" data-testid="otp-code">{formatCode(code.code)}</span>
      {until > 0 && !hotp && <Ring from={from} until={until} />}
      {hotp && (
        <span
          class="hotp-next"
          role="button"
          tabIndex={0}
          aria-label={t("hotpNext")}
          onClick={(e) => {
            e.stopPropagation();
            void fetchCode();
          }}
          onKeyDown={(e) => {
            if (e.key === "Enter" || e.key === " ") {
              e.preventDefault();
              e.stopPropagation();
              void fetchCode();
            }
          }}
        >
          ↻
        </span>
      )}
    </button>
  );
}

// ---------- panel (rename, move, remove, recent) ----------
function Recent({ accountId }: { accountId: number }) {
  const [items, setItems] = useState<RecentAnswer[] | null>(null);
  useEffect(() => {
    ipc.recentAnswers(accountId).then(setItems, () => setItems([]));
  }, [accountId]);
  return <RecentList items={items} />;
}
export function RecentList({ items }: { items: RecentAnswer[] | null }) {
  if (!items) return <Spinner />;
  if (!items.length) return <p class="muted">{t("recentNone")}</p>;
  return (
    <ul class="recent">
      {items.slice(0, 8).map((r) => (
        <li key={r.challengeId}>
          <span class={`pill ${r.outcome === "approved" ? "pill-ok" : "pill-bad"}`}>
            {r.outcome === "approved" ? t("outcomeApproved") : t("outcomeDenied")}
          </span>
          <span class="recent-service">{r.service}</span>
          <time dateTime={new Date(r.at * 1000).toISOString()}>{formatDateTime(r.at)}</time>
        </li>
      ))}
    </ul>
  );
}

function Panel(props: {
  account: AccountView;
  id: string;
  canUp: boolean;
  canDown: boolean;
  onMove: (dir: -1 | 1) => void;
  onRenamed: (a: AccountView) => void;
  onRemove: () => void;
}) {
  const a = props.account;
  const [name, setName] = useState(a.name);
  const [error, setError] = useState<string | null>(null);
  const rename = async (e: Event) => {
    e.preventDefault();
    if (!name.trim()) return setError(t("required"));
    try {
      const updated = await ipc.renameAccount(a.id, name.trim());
      props.onRenamed(updated);
      announce(t("renamed", { name: updated.name }));
      setError(null);
    } catch (x) {
      setError(errorSentence(x as IpcError));
    }
  };
  return (
    <div class="panel" id={props.id}>
      {a.kind === "push" && (
        <dl class="facts">
          <div>
            <dt>{t("serverLabel")}</dt>
            <dd>{hostOf(a.server)}</dd>
          </div>
          <div>
            <dt>{t("loginLabel")}</dt>
            <dd>{a.login}</dd>
          </div>
        </dl>
      )}
      <form class="rename-row" onSubmit={rename}>
        <Field label={t("renameLabel")} value={name} onValue={setName} error={error} maxLength={100} />
        <button type="submit" class="btn btn-secondary">
          {t("rename")}
        </button>
      </form>
      <div class="panel-actions">
        <button type="button" class="btn btn-ghost btn-small" disabled={!props.canUp} onClick={() => props.onMove(-1)}>
          ↑ {t("moveUp")}
        </button>
        <button type="button" class="btn btn-ghost btn-small" disabled={!props.canDown} onClick={() => props.onMove(1)}>
          ↓ {t("moveDown")}
        </button>
        <button type="button" class="btn btn-danger-ghost btn-small push-right" onClick={props.onRemove}>
          {t("remove")}
        </button>
      </div>
      {a.kind === "push" && (
        <section class="panel-recent" aria-label={t("recentTitle")}>
          <h3 class="subhead">{t("recentTitle")}</h3>
          <Recent accountId={a.id} />
        </section>
      )}
    </div>
  );
}

// ---------- card ----------
interface CardProps {
  account: AccountView;
  expanded: boolean;
  canUp: boolean;
  canDown: boolean;
  dragOver: boolean;
  dragging: boolean;
  draggable: boolean;
  onToggle: (id: number) => void;
  onMove: (id: number, dir: -1 | 1) => void;
  onRenamed: (a: AccountView) => void;
  onRemove: (a: AccountView) => void;
  onDragStart: (id: number, e: PointerEvent) => void;
  onCopied: () => void;
}
const Card = memo(function Card(p: CardProps) {
  const a = p.account;
  const ref = useRef<HTMLLIElement>(null);
  const [visible, setVisible] = useState(false);
  useEffect(() => observe(ref.current!, setVisible), []);
  const panelId = `panel-${a.id}`;
  const sub =
    a.kind === "push"
      ? [a.login, hostOf(a.server)].filter(Boolean).join(" · ")
      : a.issuer ?? "";
  return (
    <li
      ref={ref}
      data-id={a.id}
      data-testid={`account-${a.kind}`}
      class={`acct ${p.expanded ? "open" : ""} ${p.dragOver ? "drag-over" : ""} ${p.dragging ? "dragging" : ""}`}
    >
      <div class="acct-main">
        {p.draggable && (
          <span
            class="drag-handle"
            aria-hidden="true"
            title={t("dragHandle", { name: a.name })}
            onPointerDown={(e) => p.onDragStart(a.id, e)}
          />
        )}
        <span class={`avatar ${a.kind === "push" ? "avatar-push" : ""}`} aria-hidden="true">
          {(a.issuer || a.name || "?").trim().charAt(0).toUpperCase()}
        </span>
        <div class="acct-text">
          <h3 class="acct-name">{a.name}</h3>
          {sub && <p class="acct-sub">{sub}</p>}
        </div>
        <div class="acct-code">
          {a.kind === "otp" ? (
            <OtpCode account={a} visible={visible} onCopied={p.onCopied} />
          ) : (
            <span class="badge badge-push" title={t("pushReady")}>
              <span class="dot" aria-hidden="true" />
              {t("pushBadge")}
              <span class="sr-only">: {t("pushReady")}</span>
            </span>
          )}
        </div>
        <button
          type="button"
          class="icon-btn more-btn"
          aria-expanded={p.expanded}
          aria-controls={p.expanded ? panelId : undefined}
          aria-label={t("accountActions", { name: a.name })}
          onClick={() => p.onToggle(a.id)}
        >
          <span aria-hidden="true" class="chev" />
        </button>
      </div>
      {p.expanded && (
        <Panel
          id={panelId}
          account={a}
          canUp={p.canUp}
          canDown={p.canDown}
          onMove={(d) => p.onMove(a.id, d)}
          onRenamed={p.onRenamed}
          onRemove={() => p.onRemove(a)}
        />
      )}
    </li>
  );
});

// ---------- screen ----------
const FIRST_CHUNK = 40;
const CHUNK = 200;
export function Accounts({ onAdd }: { onAdd: () => void }) {
  const [accounts, setAccounts] = useState<AccountView[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [query, setQuery] = useState("");
  const [expanded, setExpanded] = useState<number | null>(null);
  const [removing, setRemoving] = useState<AccountView | null>(null);
  const [drag, setDrag] = useState<{ id: number; over: number | null } | null>(null);
  const [toast, setToast] = useState(false);
  const toastTimer = useRef<ReturnType<typeof setTimeout>>(undefined);

  useEffect(() => {
    ipc.listAccounts().then(setAccounts, (e) => setError(errorSentence(e as IpcError)));
  }, []);
  useEffect(() => {
    // For tests and the performance check: interactive / fully rendered.
    if (accounts) document.body.dataset.accountsReady = String(accounts.length);
    return () => void delete document.body.dataset.accountsReady;
  }, [accounts]);

  const onCopied = useMemo(
    () => () => {
      setToast(true);
      clearTimeout(toastTimer.current);
      toastTimer.current = setTimeout(() => setToast(false), 2200);
    },
    [],
  );

  // Progressive rendering: the first cards paint at once, the rest follow in
  // chunks between frames, so 1,000 accounts never block input.
  const [limit, setLimit] = useState(FIRST_CHUNK);
  const total = accounts?.length ?? 0;
  useEffect(() => {
    if (limit >= total) return;
    const h = setTimeout(() => setLimit((l) => l + CHUNK), 16);
    return () => clearTimeout(h);
  }, [limit, total]);
  const filtered = useMemo(() => (accounts ?? []).filter((a) => matches(a, query)), [accounts, query]);
  const visible = useMemo(() => filtered.slice(0, limit), [filtered, limit]);
  useEffect(() => {
    if (accounts && limit >= accounts.length) document.body.dataset.accountsRendered = String(accounts.length);
    return () => void delete document.body.dataset.accountsRendered;
  }, [accounts, limit]);

  const groups = useMemo(() => {
    const m = new Map<string, AccountView[]>();
    for (const a of visible) {
      const k = groupLabel(a);
      let g = m.get(k);
      if (!g) m.set(k, (g = []));
      g.push(a);
    }
    return [...m.entries()];
  }, [visible]);

  const doMove = async (id: number, toIndex: number, name: string) => {
    try {
      setAccounts(await ipc.moveAccount(id, toIndex));
      announce(t("moved", { name }));
    } catch (e) {
      setError(errorSentence(e as IpcError));
    }
  };
  const move = useMemo(
    () => (id: number, dir: -1 | 1) => {
      // Move within the visible group: swap with the neighbour in that group.
      setAccounts((list) => {
        if (!list) return list;
        const a = list.find((x) => x.id === id)!;
        const group = list.filter((x) => groupLabel(x) === groupLabel(a) && matches(x, query));
        const gi = group.findIndex((x) => x.id === id);
        const neighbour = group[gi + dir];
        if (neighbour) void doMove(id, list.findIndex((x) => x.id === neighbour.id), a.name);
        return list;
      });
    },
    [query],
  );
  const onToggle = useMemo(() => (id: number) => setExpanded((e) => (e === id ? null : id)), []);
  const onRenamed = useMemo(
    () => (u: AccountView) => setAccounts((l) => l && l.map((a) => (a.id === u.id ? u : a))),
    [],
  );

  // Pointer drag on the handle (mouse and touch); keyboard users have the move buttons.
  const dragRef = useRef(drag);
  dragRef.current = drag;
  const onDragStart = useMemo(
    () => (id: number, e: PointerEvent) => {
      e.preventDefault();
      setDrag({ id, over: null });
      const moveH = (ev: PointerEvent) => {
        const el = document.elementFromPoint(ev.clientX, ev.clientY)?.closest<HTMLElement>("[data-id]");
        const over = el ? Number(el.dataset.id) : null;
        setDrag((d) => (d && d.over !== over ? { ...d, over } : d));
      };
      const up = () => {
        window.removeEventListener("pointermove", moveH);
        window.removeEventListener("pointerup", up);
        window.removeEventListener("pointercancel", up);
        const d = dragRef.current;
        setDrag(null);
        if (d && d.over !== null && d.over !== d.id) {
          setAccounts((list) => {
            if (list) {
              const a = list.find((x) => x.id === d.id);
              void doMove(d.id, list.findIndex((x) => x.id === d.over), a?.name ?? "");
            }
            return list;
          });
        }
      };
      window.addEventListener("pointermove", moveH);
      window.addEventListener("pointerup", up);
      window.addEventListener("pointercancel", up);
    },
    [],
  );

  if (error && !accounts) return <Notice kind="error">{error}</Notice>;
  if (!accounts)
    return (
      <div class="center-screen" aria-busy="true">
        <Spinner /> {t("loading")}
      </div>
    );

  return (
    <section class="accounts" aria-labelledby="accounts-title">
      <div class="screen-head">
        <div>
          <ScreenTitle id="accounts-title">{t("accountsTitle")}</ScreenTitle>
          {accounts.length > 0 && <p class="muted">{tn("accountsCount", accounts.length)}</p>}
        </div>
        {accounts.length > 0 && (
          <button type="button" class="btn btn-primary btn-add" onClick={onAdd}>
            <span aria-hidden="true">＋</span> {t("navAdd")}
          </button>
        )}
      </div>
      {accounts.length === 0 ? (
        <div class="empty card">
          <div class="hero-glyph glyph-qr" aria-hidden="true" />
          <h2>{t("emptyTitle")}</h2>
          <p>{t("emptyText")}</p>
          <button type="button" class="btn btn-primary" onClick={onAdd}>
            {t("emptyButton")}
          </button>
        </div>
      ) : (
        <>
          <div class="search">
            <label for="acct-search" class="sr-only">
              {t("search")}
            </label>
            <span class="search-icon" aria-hidden="true" />
            <input
              id="acct-search"
              class="input"
              type="search"
              placeholder={t("searchPlaceholder")}
              value={query}
              onInput={(e) => setQuery((e.target as HTMLInputElement).value)}
              autoComplete="off"
            />
          </div>
          {error && <Notice kind="error">{error}</Notice>}
          {filtered.length === 0 && <p class="muted" role="status">{t("searchNone", { q: query })}</p>}
          {groups.map(([label, items]) => (
            <section class="group" key={label} aria-label={label || t("groupOther")}>
              <h2 class="group-title">
                {label || t("groupOther")} <span class="count">{items.length}</span>
              </h2>
              <ul class="acct-list">
                {items.map((a, i) => (
                  <Card
                    key={a.id}
                    account={a}
                    expanded={expanded === a.id}
                    canUp={i > 0}
                    canDown={i < items.length - 1}
                    draggable={!query}
                    dragging={drag?.id === a.id}
                    dragOver={!!drag && drag.over === a.id && drag.id !== a.id}
                    onToggle={onToggle}
                    onMove={move}
                    onRenamed={onRenamed}
                    onRemove={setRemoving}
                    onDragStart={onDragStart}
                    onCopied={onCopied}
                  />
                ))}
              </ul>
            </section>
          ))}
        </>
      )}
      {toast && (
        <div class="toast" aria-hidden="true">
          ✓ {t("codeCopied")}
        </div>
      )}
      {removing && (
        <RemoveDialog
          account={removing}
          onClose={() => setRemoving(null)}
          onRemoved={(list) => {
            announce(t("removed", { name: removing.name }));
            setRemoving(null);
            setExpanded(null);
            setAccounts(list);
          }}
        />
      )}
    </section>
  );
}

function RemoveDialog(p: { account: AccountView; onClose: () => void; onRemoved: (l: AccountView[]) => void }) {
  const [pin, setPin] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!pin) return setError(t("required"));
    setBusy(true);
    try {
      p.onRemoved(await ipc.removeAccount(p.account.id, pin));
    } catch (x) {
      setPin("");
      setError(errorSentence(x as IpcError));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog title={t("removeTitle")} onClose={p.onClose}>
      <form class="stack" onSubmit={submit} noValidate>
        <p>{t("removeText", { name: p.account.name })}</p>
        {p.account.kind === "push" && <Notice kind="warn" live={false}>{t("removePush")}</Notice>}
        <PinField label={t("removePinLabel")} value={pin} onValue={setPin} error={error} autoComplete="current-password" />
        <div class="dialog-actions">
          <button type="button" class="btn btn-ghost" onClick={p.onClose}>
            {t("cancel")}
          </button>
          <button type="submit" class="btn btn-danger" disabled={busy}>
            {t("removeConfirm")}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
