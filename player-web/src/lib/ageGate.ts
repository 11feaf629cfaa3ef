// Consent to age-restricted streams, remembered in localStorage for a configurable time.

const KEY = "mediad.ageConsent";
const DAY_MS = 86_400_000;

/** Whether consent was given within the last `ttlDays` days. */
export function hasAgeConsent(ttlDays: number, now = Date.now(), storage: Storage = localStorage): boolean {
  let raw: string | null = null;
  try {
    raw = storage.getItem(KEY);
  } catch {
    return false; // storage blocked: ask every time
  }
  const givenAt = raw === null ? NaN : Number(raw);
  if (!Number.isFinite(givenAt) || givenAt > now) return false;
  return now - givenAt < ttlDays * DAY_MS;
}

export function giveAgeConsent(now = Date.now(), storage: Storage = localStorage): void {
  try {
    storage.setItem(KEY, String(now));
  } catch {
    // storage blocked: consent holds for this page only
  }
}
