import { act, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { fakeFetch } from "../test/fakes";
import { replay } from "../test/recordings";
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

  it("lists recent replays under the live streams, each opening its replay page", async () => {
    const { calls } = fakeFetch({
      "GET /api/streams": () => ({ body: { streams: [live] } }),
      "GET /api/replays": () => ({ body: { replays: [replay({ id: "r2", title: "Last night" }), replay({ id: "r1", title: "Thursday set" })] } }),
    });
    render(<DiscoveryPage />);
    const liveCard = await screen.findByRole("heading", { name: "Friday jam" });
    const section = await screen.findByRole("region", { name: "Recent replays" });
    expect(calls.find((c) => c.path.startsWith("/api/replays"))?.path).toBe("/api/replays?limit=12");
    const headings = [...section.querySelectorAll("h3")].map((h) => h.textContent);
    expect(headings).toEqual(["Last night", "Thursday set"]);
    // Under the live streams.
    expect(liveCard.compareDocumentPosition(section) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
    fireEvent.click(screen.getAllByRole("link").find((link) => link.getAttribute("href") === "/replay/r2")!);
    expect(window.location.pathname).toBe("/replay/r2");
    window.history.pushState(null, "", "/");
  });

  it("shows no replay section while there are none (or the server keeps none), and an error with a retry", async () => {
    let replays: () => { status?: number; body: unknown } = () => ({ body: { replays: [] } });
    fakeFetch({ "GET /api/streams": () => ({ body: { streams: [] } }), "GET /api/replays": () => replays() });
    const { unmount } = render(<DiscoveryPage />);
    expect(await screen.findByText("Nobody is live right now.")).toBeInTheDocument();
    await act(async () => undefined);
    expect(screen.queryByRole("region", { name: "Recent replays" })).toBeNull();
    unmount();
    replays = () => ({ status: 404, body: { error: "no such route" } });
    const second = render(<DiscoveryPage />);
    await screen.findByText("Nobody is live right now.");
    await act(async () => undefined);
    expect(screen.queryByRole("region", { name: "Recent replays" })).toBeNull();
    second.unmount();
    replays = () => ({ status: 503, body: { error: "disk unavailable" } });
    render(<DiscoveryPage />);
    expect(await screen.findByRole("alert")).toHaveTextContent("Could not load the replays: disk unavailable");
    replays = () => ({ body: { replays: [replay()] } });
    fireEvent.click(screen.getByRole("button", { name: "Retry" }));
    expect(await screen.findByRole("heading", { name: "Friday jam" })).toBeInTheDocument();
  });
});
