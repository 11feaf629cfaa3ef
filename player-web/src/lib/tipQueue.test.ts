import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { TipQueue } from "./tipQueue";
import type { Tip } from "./messages";

const tip = (id: number): Tip => ({ type: "tip", id, amountMinor: 500, currency: "EUR", from: `fan${id}`, message: "", at: "" });

describe("TipQueue", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("shows one tip at a time, each for eight seconds, in order", () => {
    const shown: (number | null)[] = [];
    const queue = new TipQueue((t) => shown.push(t?.id ?? null));
    queue.push(tip(1));
    queue.push(tip(2));
    queue.push(tip(3));
    expect(shown).toEqual([1]);
    expect(queue.pending).toBe(2);
    vi.advanceTimersByTime(7999);
    expect(shown).toEqual([1]);
    vi.advanceTimersByTime(1);
    expect(shown).toEqual([1, 2]);
    vi.advanceTimersByTime(16000);
    expect(shown).toEqual([1, 2, 3, null]);
  });

  it("ignores a tip it has seen, and starts again when a new one comes", () => {
    const shown: (number | null)[] = [];
    const queue = new TipQueue((t) => shown.push(t?.id ?? null), 1000);
    queue.push(tip(1));
    queue.push(tip(1));
    vi.advanceTimersByTime(1000);
    queue.push(tip(2));
    expect(shown).toEqual([1, null, 2]);
  });

  it("stops on dispose", () => {
    const show = vi.fn();
    const queue = new TipQueue(show, 1000);
    queue.push(tip(1));
    queue.push(tip(2));
    queue.dispose();
    vi.advanceTimersByTime(5000);
    expect(show).toHaveBeenCalledTimes(1);
  });
});
