import { fireEvent, render, screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import type { StreamCard } from "../lib/types";
import { LiveBadge } from "./LiveBadge";
import { LiveCard, LiveCardSkeleton } from "./LiveCard";

const card = (overrides: Partial<StreamCard> = {}): StreamCard => ({
  id: "ab12",
  title: "Friday jam",
  posterUrl: "/posters/jam.jpg",
  state: "live",
  creator: { handle: "carla", displayName: "Carla" },
  viewers: 1234,
  startAt: null,
  endedAt: null,
  ageRestricted: false,
  ...overrides,
});

describe("LiveCard", () => {
  it("shows a live stream with its poster, creator, badge and viewers", () => {
    render(<LiveCard stream={card()} onOpen={() => undefined} />);
    expect(screen.getByRole("heading", { name: "Friday jam" })).toBeInTheDocument();
    expect(screen.getByText("Carla")).toBeInTheDocument();
    expect(screen.getByLabelText("live")).toHaveTextContent("LIVE");
    expect(screen.getByText("1.2K watching")).toBeInTheDocument();
    expect(screen.getByRole("link")).toHaveAttribute("href", "/watch/ab12");
    expect(document.querySelector("img")).toHaveAttribute("src", "/posters/jam.jpg");
  });

  it("shows a scheduled stream with its start time and no viewers", () => {
    render(<LiveCard stream={card({ state: "preview", startAt: "2030-01-02T18:00:00.000Z", viewers: 0 })} onOpen={() => undefined} />);
    expect(screen.getByLabelText("scheduled")).toBeInTheDocument();
    expect(screen.getByText(/^Starts /)).toBeInTheDocument();
    expect(screen.queryByText(/watching/)).toBeNull();
  });

  it("opens in the app on a plain click, and lets a modified click through", () => {
    const onOpen = vi.fn();
    render(<LiveCard stream={card({ ageRestricted: true })} onOpen={onOpen} />);
    expect(screen.getByText("18+")).toBeInTheDocument();
    fireEvent.click(screen.getByRole("link"));
    expect(onOpen).toHaveBeenCalledWith("ab12");
    fireEvent.click(screen.getByRole("link"), { ctrlKey: true });
    expect(onOpen).toHaveBeenCalledTimes(1);
  });

  it("has a skeleton and badges for every state", () => {
    render(
      <>
        <LiveCardSkeleton />
        <LiveBadge state="ended" />
        <LiveBadge state="preview" />
      </>,
    );
    expect(screen.getByTestId("card-skeleton")).toHaveAttribute("aria-hidden", "true");
    expect(screen.getByText("ENDED")).toBeInTheDocument();
    expect(screen.getByText("PREVIEW")).toBeInTheDocument();
  });
});
