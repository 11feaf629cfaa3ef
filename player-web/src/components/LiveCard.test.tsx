import { act, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
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

afterEach(() => vi.useRealTimers());

const picture = () => document.querySelector(".poster img");

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

  it("shows the live thumbnail when the creator set no poster, fetched again every 10 s while the page is visible", () => {
    vi.useFakeTimers();
    vi.setSystemTime(1_000_000_000_000);
    render(<LiveCard stream={card({ posterUrl: "", thumbnailUrl: "/thumbs/ab12.jpg" })} onOpen={() => undefined} />);
    expect(picture()).toHaveAttribute("src", "/thumbs/ab12.jpg"); // first as it is: the cache may hold it
    act(() => vi.advanceTimersByTime(10_000));
    expect(picture()).toHaveAttribute("src", `/thumbs/ab12.jpg?t=${Math.floor(1_000_000_010_000 / 10_000)}`);
    const visibility = vi.spyOn(document, "visibilityState", "get").mockReturnValue("hidden");
    act(() => vi.advanceTimersByTime(30_000));
    expect(picture()).toHaveAttribute("src", `/thumbs/ab12.jpg?t=${Math.floor(1_000_000_010_000 / 10_000)}`); // hidden: nothing fetched
    visibility.mockRestore();
    act(() => vi.advanceTimersByTime(10_000));
    expect(picture()).toHaveAttribute("src", `/thumbs/ab12.jpg?t=${Math.floor(1_000_000_050_000 / 10_000)}`);
  });

  it("keeps the creator's poster over the thumbnail, and never refreshes it", () => {
    vi.useFakeTimers();
    render(<LiveCard stream={card({ thumbnailUrl: "/thumbs/ab12.jpg" })} onOpen={() => undefined} />);
    act(() => vi.advanceTimersByTime(60_000));
    expect(picture()).toHaveAttribute("src", "/posters/jam.jpg");
  });

  it("falls back to the placeholder when the picture fails to load, and tries the next one", () => {
    vi.useFakeTimers();
    render(<LiveCard stream={card({ posterUrl: "", thumbnailUrl: "/thumbs/ab12.jpg" })} onOpen={() => undefined} />);
    fireEvent.error(picture()!);
    expect(picture()).toBeNull();
    expect(screen.getByTestId("poster-blank")).toBeInTheDocument();
    act(() => vi.advanceTimersByTime(10_000));
    expect(picture()?.getAttribute("src")).toMatch(/^\/thumbs\/ab12\.jpg\?t=\d+$/);
    expect(screen.queryByTestId("poster-blank")).toBeNull();
  });

  it("shows the placeholder for a stream with no picture at all", () => {
    render(<LiveCard stream={card({ posterUrl: "", thumbnailUrl: null, state: "ended" })} onOpen={() => undefined} />);
    expect(picture()).toBeNull();
    expect(screen.getByTestId("poster-blank")).toBeInTheDocument();
  });
});
