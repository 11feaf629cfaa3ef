import { describe, expect, it } from "vitest";
import { giveAgeConsent, hasAgeConsent } from "./ageGate";

const DAY = 86_400_000;

describe("age gate consent", () => {
  it("is absent until given", () => {
    expect(hasAgeConsent(30, Date.now())).toBe(false);
  });

  it("lasts for the configured number of days", () => {
    const now = Date.UTC(2026, 10, 27);
    giveAgeConsent(now);
    expect(hasAgeConsent(30, now + 29 * DAY)).toBe(true);
    expect(hasAgeConsent(30, now + 30 * DAY)).toBe(false);
    expect(hasAgeConsent(1, now + 2 * DAY)).toBe(false);
  });

  it("does not trust a consent from the future or a garbled one", () => {
    const now = Date.UTC(2026, 10, 27);
    giveAgeConsent(now + DAY);
    expect(hasAgeConsent(30, now)).toBe(false);
    localStorage.setItem("mediad.ageConsent", "yes");
    expect(hasAgeConsent(30, now)).toBe(false);
  });

  it("asks again when storage is blocked", () => {
    const blocked = {
      getItem: () => {
        throw new Error("SecurityError");
      },
      setItem: () => {
        throw new Error("SecurityError");
      },
    } as unknown as Storage;
    expect(() => giveAgeConsent(Date.now(), blocked)).not.toThrow();
    expect(hasAgeConsent(30, Date.now(), blocked)).toBe(false);
  });
});
