import { act, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Tip } from "../lib/messages";
import { LiveTipTicker, type TipFeed } from "./LiveTipTicker";

function feed(): TipFeed & { emit: (tip: Tip) => void } {
  const listeners = new Set<(tip: Tip) => void>();
  return {
    subscribe: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    emit: (tip) => listeners.forEach((listener) => listener(tip)),
  };
}

const tip = (id: number, from: string, message = ""): Tip => ({ type: "tip", id, amountMinor: 500, currency: "EUR", from, message, at: "" });

describe("LiveTipTicker", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("shows queued tips one at a time, eight seconds each", () => {
    const tips = feed();
    render(<LiveTipTicker feed={tips} />);
    expect(screen.queryByRole("status")).toBeNull();
    act(() => {
      tips.emit(tip(1, "Ada", "great show"));
      tips.emit(tip(2, "Bob"));
    });
    expect(screen.getByRole("status")).toHaveTextContent("Ada tipped €5.00: great show");
    expect(screen.queryByText(/Bob/)).toBeNull();
    act(() => vi.advanceTimersByTime(8000));
    expect(screen.getByRole("status")).toHaveTextContent("Bob tipped €5.00");
    act(() => vi.advanceTimersByTime(8000));
    expect(screen.queryByRole("status")).toBeNull();
  });

  it("renders a tip's words as text", () => {
    const tips = feed();
    const { container } = render(<LiveTipTicker feed={tips} />);
    act(() => tips.emit(tip(1, "<b>x</b>", "<img src=x onerror=alert(1)>")));
    expect(container.querySelector("img, b")).toBeNull();
    expect(screen.getByRole("status")).toHaveTextContent("<img src=x onerror=alert(1)>");
  });
});
