// Builds an otpauth:// URI from the manual-entry form (Key Uri Format).
export interface ManualKey {
  type: "totp" | "hotp";
  issuer: string;
  name: string;
  secret: string;
  digits: number;
  period: number;
  algorithm: "SHA1" | "SHA256" | "SHA512";
  counter: number;
}
export const DEFAULT_KEY: Omit<ManualKey, "issuer" | "name" | "secret"> = {
  type: "totp", digits: 6, period: 30, algorithm: "SHA1", counter: 0,
};

/** Upper-cases and strips spaces, dashes and '=' padding. */
export function normaliseSecret(s: string): string {
  return s.replace(/[\s-]/g, "").replace(/=+$/, "").toUpperCase();
}
export function isBase32(s: string): boolean {
  return /^[A-Z2-7]+$/.test(s);
}

export function buildOtpauthUri(k: ManualKey): string {
  const secret = normaliseSecret(k.secret);
  if (!isBase32(secret)) throw new Error("invalidSecret");
  const name = k.name.trim();
  const issuer = k.issuer.trim();
  if (!name) throw new Error("required");
  const label = encodeURIComponent(issuer ? `${issuer}:${name}` : name).replace(/%3A/g, ":");
  const q = new URLSearchParams();
  q.set("secret", secret);
  if (issuer) q.set("issuer", issuer);
  if (k.algorithm !== "SHA1") q.set("algorithm", k.algorithm);
  if (k.digits !== 6) q.set("digits", String(k.digits));
  if (k.type === "totp" && k.period !== 30) q.set("period", String(k.period));
  if (k.type === "hotp") q.set("counter", String(k.counter));
  // URLSearchParams encodes spaces as '+', which otpauth parsers read literally.
  return `otpauth://${k.type}/${label}?${q.toString().replace(/\+/g, "%20")}`;
}
