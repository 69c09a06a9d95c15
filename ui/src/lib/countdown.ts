// Countdown math, pure and unit-tested.
import { t } from "./i18n";
import type { Lang } from "./types";

/** Whole seconds left until `until` (Unix seconds), never negative. */
export function secondsLeft(until: number, nowMs: number = Date.now()): number {
  return Math.max(0, Math.ceil(until - nowMs / 1000));
}
/** Fraction of a period still left, 0..1 (for the code ring). */
export function fractionLeft(validFrom: number, validUntil: number, nowMs: number = Date.now()): number {
  const total = validUntil - validFrom;
  if (total <= 0) return 0;
  return Math.min(1, Math.max(0, (validUntil - nowMs / 1000) / total));
}
/** TOTP window of a period when the shell gave none: [from, until). */
export function totpWindow(period: number, nowMs: number = Date.now()): [number, number] {
  const now = Math.floor(nowMs / 1000);
  const from = now - (now % period);
  return [from, from + period];
}
/** "0:45 min" / "45 s" style text. */
export function formatDuration(seconds: number, lang?: Lang): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return t("secondsShort", { n: s }, lang);
  return t("minutesSeconds", { m: Math.floor(s / 60), s: String(s % 60).padStart(2, "0") }, lang);
}
export const MILESTONES = [60, 30, 10];
/** The milestone crossed between two readings, for the live region; null if none. */
export function crossedMilestone(prev: number, next: number, marks: number[] = MILESTONES): number | null {
  for (const m of marks) if (prev > m && next <= m) return m;
  return null;
}
