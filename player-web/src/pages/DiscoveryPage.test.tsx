import { act, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { fakeFetch } from "../test/fakes";
import { DiscoveryPage } from "./DiscoveryPage";

afterEach(() => vi.unstubAllGlobals());

const live = { id: "ab12", title: "Friday jam", posterUrl: "", state: "live", creator: { handle: "carla", displayName: "Carla" }, viewers: 3, startAt: null, endedAt: null, ageRestricted: false };

describe("DiscoveryPage", () => {
  it("shows skeletons while loading, then the cards", async () => {
    let answer: (value: { body: unknown }) => void = () => undefined;
    fakeFetch({ "GET /api/streams": () => new Promise((resolve) => (answer = resolve)) });
    render(<DiscoveryPage />);
    expect(screen.getAllByTestId("card-skeleton").length).toBeGreaterThan(0);
    await act(async () => answer({ body: { streams: [live] } }));
    expect(screen.queryByTestId("card-skeleton")).toBeNull();
    expect(screen.getByRole("heading", { name: "Friday jam" })).toBeInTheDocument();
  });

  it("says so when nobody is live", async () => {
    fakeFetch({ "GET /api/streams": () => ({ body: { streams: [] } }) });
    render(<DiscoveryPage />);
    expect(await screen.findByText("Nobody is live right now.")).toBeInTheDocument();
  });

  it("shows an error with a retry that works", async () => {
    let fail = true;
    fakeFetch({
      "GET /api/streams": () => (fail ? { status: 503, body: { error: "store unavailable" } } : { body: { streams: [live] } }),
    });
    render(<DiscoveryPage />);
    expect(await screen.findByRole("alert")).toHaveTextContent("store unavailable");
    fail = false;
    fireEvent.click(screen.getByRole("button", { name: "Retry" }));
    expect(await screen.findByRole("heading", { name: "Friday jam" })).toBeInTheDocument();
  });

  it("opens the watch page in the app", async () => {
    fakeFetch({ "GET /api/streams": () => ({ body: { streams: [live] } }) });
    render(<DiscoveryPage />);
    fireEvent.click(await screen.findByRole("link"));
    expect(window.location.pathname).toBe("/watch/ab12");
    window.history.pushState(null, "", "/");
  });
});
