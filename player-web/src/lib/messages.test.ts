import { describe, expect, it } from "vitest";
import { isServerMessage } from "./messages";

describe("isServerMessage", () => {
  it("takes any object with a type, and nothing else", () => {
    expect(isServerMessage({ type: "viewers", count: 3, at: "" })).toBe(true);
    expect(isServerMessage({ type: "something.new" })).toBe(true); // ignored later, not refused here
    for (const value of [null, undefined, 3, "viewers", [], { count: 3 }, { type: 7 }]) {
      expect(isServerMessage(value)).toBe(false);
    }
  });
});
