// Thin typed wrapper over Tauri's invoke, one function per command of docs/ipc.md.
import { invoke } from "@tauri-apps/api/core";
import type {
  AccountView, AddResult, AnswerResult, AppStatus, ChallengeView, IpcError, OtpCodeView, RecentAnswer,
  SavedExport,
} from "./types";
import { IPC_KINDS } from "./errors";

/** Normalises whatever invoke rejected with into an IpcError. */
export function toIpcError(e: unknown): IpcError {
  if (e && typeof e === "object" && "kind" in e && IPC_KINDS.includes((e as IpcError).kind)) {
    return e as IpcError;
  }
  if (typeof e === "string") {
    try {
      return toIpcError(JSON.parse(e));
    } catch {
      /* not JSON */
    }
  }
  return { kind: "internal" };
}

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    throw toIpcError(e);
  }
}

const bytes = (b: Uint8Array) => Array.from(b);

export const ipc = {
  appStatus: () => call<AppStatus>("app_status"),
  setupVault: (pin: string) => call<AppStatus>("setup_vault", { pin }),
  unlock: (pin: string) => call<AppStatus>("unlock", { pin }),
  unlockBiometric: () => call<AppStatus>("unlock_biometric"),
  lock: () => call<AppStatus>("lock"),
  listAccounts: (query?: string) => call<AccountView[]>("list_accounts", query ? { query } : {}),
  otpCode: (id: number) => call<OtpCodeView>("otp_code", { id }),
  addFromText: (text: string) => call<AddResult>("add_from_text", { text }),
  addFromQrImage: (b: Uint8Array) => call<AddResult>("add_from_qr_image", { bytes: bytes(b) }),
  confirmEnrollment: (pendingId: string, code: string) =>
    call<AddResult>("confirm_enrollment", { pendingId, code }),
  importExportFile: (b: Uint8Array, passphrase: string) =>
    call<AddResult>("import_export_file", { bytes: bytes(b), passphrase }),
  /** The shell writes the file (Downloads folder) and says where; the bytes stay there. */
  exportVault: (passphrase: string) => call<SavedExport>("export_vault", { passphrase }),
  renameAccount: (id: number, name: string) => call<AccountView>("rename_account", { id, name }),
  moveAccount: (id: number, toIndex: number) => call<AccountView[]>("move_account", { id, toIndex }),
  removeAccount: (id: number, pin: string) => call<AccountView[]>("remove_account", { id, pin }),
  pendingChallenges: () => call<ChallengeView[]>("pending_challenges"),
  answerChallenge: (a: {
    challengeId: string; approve: boolean; number?: string; notMe?: boolean; pin?: string;
  }) => call<AnswerResult>("answer_challenge", a),
  recentAnswers: (accountId: number) => call<RecentAnswer[]>("recent_answers", { accountId }),
  changePin: (oldPin: string, newPin: string) => call<AppStatus>("change_pin", { oldPin, newPin }),
  setBiometric: (enabled: boolean) => call<AppStatus>("set_biometric", { enabled }),
  setLanguage: (language: "de" | "en" | "system") => call<AppStatus>("set_language", { language }),
  setLockTimeout: (seconds: number) => call<AppStatus>("set_lock_timeout", { seconds }),
  requestNotifications: () => call<AppStatus>("request_notifications"),
};
