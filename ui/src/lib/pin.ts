// PIN strength: explains *why* a PIN is weak. Pure, unit-tested.
export type PinIssue = "tooShort" | "repeated" | "sequence" | "common" | "date";
export interface PinStrength {
  level: 0 | 1 | 2; // weak, fair, good
  issues: PinIssue[];
  acceptable: boolean; // may be set at all (≥ 4 digits, digits only)
}
export const PIN_MIN = 4;
export const PIN_RECOMMENDED = 6;

const COMMON = new Set([
  "1234", "0000", "1111", "1212", "7777", "1004", "2000", "4444", "2222", "6969", "9999",
  "3333", "5555", "6666", "1122", "1313", "8888", "4321", "2001", "1010",
  "123456", "654321", "111111", "000000", "123123", "112233", "121212", "696969", "159753",
  "147258", "258369", "123321", "666666", "789456", "131313", "520520", "102030", "010203",
]);

export const isDigits = (pin: string) => /^[0-9]*$/.test(pin);

/** Longest run of one repeated digit. */
function longestRun(pin: string) {
  let best = pin.length ? 1 : 0;
  let run = 1;
  for (let i = 1; i < pin.length; i++) {
    run = pin[i] === pin[i - 1] ? run + 1 : 1;
    best = Math.max(best, run);
  }
  return best;
}
/** Longest ascending or descending run (step ±1, no wrap). */
function longestSequence(pin: string) {
  let best = pin.length ? 1 : 0;
  for (const step of [1, -1]) {
    let run = 1;
    for (let i = 1; i < pin.length; i++) {
      run = Number(pin[i]) - Number(pin[i - 1]) === step ? run + 1 : 1;
      best = Math.max(best, run);
    }
  }
  return best;
}
/** 1990–2039 as a year, or DDMM/MMDD/DDMMYY shapes. */
function looksLikeDate(pin: string) {
  if (pin.length === 4) {
    const n = Number(pin);
    if (n >= 1940 && n <= 2039) return true;
  }
  if (pin.length === 6 || pin.length === 8) {
    const d = Number(pin.slice(0, 2));
    const m = Number(pin.slice(2, 4));
    if (d >= 1 && d <= 31 && m >= 1 && m <= 12) {
      if (pin.length === 8) {
        const y = Number(pin.slice(4));
        return y >= 1900 && y <= 2039;
      }
      return true;
    }
  }
  return false;
}
/** Only two distinct digits alternating, e.g. 121212. */
function fewDistinct(pin: string) {
  return new Set(pin).size <= Math.max(1, Math.floor(pin.length / 3));
}

export function pinStrength(pin: string): PinStrength {
  const issues: PinIssue[] = [];
  if (pin.length < PIN_RECOMMENDED) issues.push("tooShort");
  if (pin.length >= 3 && (longestRun(pin) >= 3 || (pin.length >= 4 && fewDistinct(pin)))) issues.push("repeated");
  if (pin.length >= 3 && longestSequence(pin) >= Math.min(4, pin.length)) issues.push("sequence");
  if (COMMON.has(pin)) issues.push("common");
  else if (looksLikeDate(pin)) issues.push("date");
  const acceptable = isDigits(pin) && pin.length >= PIN_MIN;
  let level: 0 | 1 | 2;
  if (!acceptable || issues.some((i) => i !== "tooShort")) level = 0;
  else if (issues.includes("tooShort")) level = 1;
  else level = 2;
  return { level, issues, acceptable };
}
