// Screen-reader announcements through two persistent live regions.
let polite: HTMLElement | null = null;
let assertive: HTMLElement | null = null;

function region(kind: "polite" | "assertive") {
  const el = document.createElement("div");
  el.className = "sr-only";
  el.setAttribute("aria-live", kind);
  el.setAttribute("aria-atomic", "true");
  el.setAttribute("role", kind === "polite" ? "status" : "alert");
  el.dataset.live = kind;
  document.body.appendChild(el);
  return el;
}

export function announce(text: string, kind: "polite" | "assertive" = "polite") {
  if (typeof document === "undefined") return;
  if (!polite) polite = region("polite");
  if (!assertive) assertive = region("assertive");
  const el = kind === "polite" ? polite : assertive;
  el.textContent = "";
  // A fresh text node after a tick makes repeated messages be read again.
  setTimeout(() => (el.textContent = text), 30);
}
