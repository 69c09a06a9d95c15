// Entry of mock.html: installs the JS mock backend with Tauri's mockIPC, then starts
// the real app. Scenario from the query string, e.g.
//   mock.html?state=locked&accounts=1000&platform=android&notifications=denied&lang=en
import { mockIPC } from "@tauri-apps/api/mocks";
import { emit } from "@tauri-apps/api/event";
import { createMockBackend, type MockOptions } from "./backend";

(globalThis as { __IDENT_DEFER_START__?: boolean }).__IDENT_DEFER_START__ = true;

const q = new URLSearchParams(location.search);
const num = (k: string) => (q.has(k) ? Number(q.get(k)) : undefined);
const acc = q.get("accounts");
const lang = q.get("lang");
const opts: MockOptions = {
  state: (q.get("state") as MockOptions["state"]) ?? "locked",
  accounts: acc === null ? "demo" : acc === "empty" ? "empty" : acc === "demo" ? "demo" : Number(acc),
  platform: (q.get("platform") as MockOptions["platform"]) ?? "linux",
  notifications: (q.get("notifications") as MockOptions["notifications"]) ?? "granted",
  biometricAvailable: q.get("bio") === "1" || q.get("bio") === "on",
  biometricEnabled: q.get("bio") === "on",
  languageSetting: lang === "de" || lang === "en" ? lang : "system",
  systemLanguage: navigator.language.toLowerCase().startsWith("en") ? "en" : "de",
  waitSeconds: num("wait"),
  lockedForever: q.get("forever") === "1",
  latencyMs: num("latency"),
};
const backend = createMockBackend(opts);
mockIPC((cmd, args) => backend.handle(cmd, args as Record<string, unknown>), { shouldMockEvents: true });

const api = {
  backend,
  /** Emits challenge-arrived with a fresh challenge; returns its number. */
  async pushChallenge(opt: Parameters<typeof backend.makeChallenge>[0] = {}) {
    const { number, ...view } = backend.makeChallenge(opt);
    await emit("challenge-arrived", view);
    return { challengeId: view.challengeId, number };
  },
  closeChallenge: (challengeId: string) => emit("challenge-closed", { challengeId }),
  lockNow: async () => {
    backend.state.unlocked = false;
    await emit("locked");
  },
};
(window as unknown as { __identMock: typeof api }).__identMock = api;

import("../main").then((m) => m.start());
