// Types of the IPC contract, docs/ipc.md. Keep in step with that file.
export type AccountKind = "otp" | "push";
export interface AccountView {
  id: number;
  kind: AccountKind;
  name: string;
  issuer: string | null;
  server: string | null;
  login: string | null;
  otpType: "totp" | "hotp" | null;
  period: number | null;
  digits: number | null;
}
export interface OtpCodeView {
  code: string;
  validFrom: number | null;
  validUntil: number | null;
}
export type Lang = "de" | "en";
export type Platform = "linux" | "macos" | "windows" | "android" | "ios";
export type NotificationState = "granted" | "denied" | "prompt" | "unsupported";
export interface AppStatus {
  vaultExists: boolean;
  unlocked: boolean;
  attemptsLeft: number | null;
  waitSeconds: number;
  lockedForever: boolean;
  biometricAvailable: boolean;
  biometricEnabled: boolean;
  notifications: NotificationState;
  language: Lang;
  languageSetting?: Lang | "system";
  lockTimeoutSeconds?: number;
  platform: Platform;
}
export interface ChallengeView {
  challengeId: string;
  accountId: number;
  accountName: string;
  service: string;
  login: string;
  ip: string;
  userAgent: string;
  location: string | null;
  issuedAt: number;
  expiresAt: number;
  numberRequired: boolean;
}
export type AddResult =
  | { type: "otpAdded"; ids: number[]; skipped: { name: string; reason: string }[] }
  | { type: "pushEnrolled"; id: number }
  | { type: "smsRequired"; pendingId: string };
export interface AnswerResult {
  outcome: "approved" | "denied";
}
/** Where the shell saved an export (the UI never holds its bytes). */
export interface SavedExport {
  fileName: string;
  path: string;
}
export interface RecentAnswer {
  challengeId: string;
  service: string;
  at: number;
  outcome: "approved" | "denied";
}
export type IpcErrorKind =
  | "wrongPin" | "backOff" | "lockedForever" | "weakPin" | "pinMismatch"
  | "invalidInput" | "notFound" | "network" | "server" | "serverKeyMismatch"
  | "challengeExpired" | "challengeGone" | "wrongNumberFormat" | "smsCodeWrong" | "smsCodeExpired"
  | "cancelled" | "internal";
export interface IpcError {
  kind: IpcErrorKind;
  attemptsLeft?: number;
  waitSeconds?: number;
  detail?: string;
}
export const isMobile = (p: Platform) => p === "android" || p === "ios";
