import { act, fireEvent, render, screen, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { asWebSocket, FakeWebSocket, fakeFetch } from "../test/fakes";
import { viewerHello } from "../test/harness";
import { clip, recording } from "../test/recordings";
import { streamDetail } from "../test/streams";
import { WatchPage } from "./WatchPage";

beforeEach(() => {
  vi.stubGlobal("WebSocket", asWebSocket);
  vi.spyOn(HTMLMediaElement.prototype, "load").mockImplementation(() => undefined);
});
afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
  FakeWebSocket.reset();
});

function routes(detail = streamDetail(), clips = [clip()]) {
  return {
    "GET /api/streams/s1": () => ({ body: detail }),
    "GET /api/streams/s1/recordings": () => ({ body: { recordings: [recording()] } }),
    "GET /api/streams/s1/clips": () => ({ body: { clips } }),
  };
}

/** The page once the real-time channel said who the viewer is. */
async function watching(you: Parameters<typeof viewerHello>[0], state: "live" | "ended" = "live") {
  render(<WatchPage streamId="s1" />);
  await screen.findByTestId("live-player");
  // The channel opens its socket in an effect of its own, maybe after the player shows.
  const socket = await vi.waitFor(() => FakeWebSocket.last());
  act(() => socket.open());
  act(() => socket.receive({ ...viewerHello(you), stream: { state, title: "Jam nights" } }));
}

describe("WatchPage with recordings", () => {
  it("shows the live thumbnail before playback, and the creator's poster over it when set", async () => {
    fakeFetch(routes());
    const { unmount } = render(<WatchPage streamId="s1" />);
    expect(await screen.findByLabelText("live video")).toHaveAttribute("poster", "/thumbs/s1.jpg");
    unmount();
    fakeFetch(routes(streamDetail({ posterUrl: "https://cdn.example/jam.jpg" })));
    render(<WatchPage streamId="s1" />);
    expect(await screen.findByLabelText("live video")).toHaveAttribute("poster", "https://cdn.example/jam.jpg");
  });

  it("lists the stream's past broadcasts and clips", async () => {
    fakeFetch(routes());
    render(<WatchPage streamId="s1" />);
    expect(await screen.findByRole("list", { name: "Past broadcasts" })).toHaveTextContent("Friday jam");
    expect(await screen.findByRole("list", { name: "Clips" })).toHaveTextContent("the goal");
  });

  it("offers the clip button to a signed-in viewer while live, never to a guest, and lists a new clip at once", async () => {
    let clips = [clip({ createdBy: "ann" })];
    fakeFetch({
      ...routes(),
      "GET /api/streams/s1/clips": () => ({ body: { clips } }),
      "POST /api/streams/s1/clips": () => {
        clips = [clip({ id: "c2", title: "the save" }), ...clips];
        return { status: 201, body: clips[0] };
      },
    });
    await watching({ role: "viewer" });
    expect(await screen.findByRole("button", { name: "Clip" })).toBeInTheDocument();
    expect(within(await screen.findByRole("list", { name: "Clips" })).queryByRole("button", { name: "Delete" })).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: "Clip" }));
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Create clip" })));
    expect(await within(screen.getByRole("list", { name: "Clips" })).findByText("the save")).toBeInTheDocument();
    act(() => FakeWebSocket.last().receive({ type: "stream.status", state: "ended", at: "2026-11-27T21:00:00.000Z", seq: 5 }));
    expect(screen.queryByRole("button", { name: "Clip" })).toBeNull();
  });

  it("has no clip button for a guest", async () => {
    fakeFetch(routes());
    await watching({ role: "guest", id: "g:1", handle: "guest-1" });
    await screen.findByRole("list", { name: "Clips" });
    expect(screen.queryByRole("button", { name: "Clip" })).toBeNull();
  });

  it("lets a moderator delete clips here (broadcasts stay in the control room)", async () => {
    fakeFetch(routes());
    await watching({ role: "moderator", canModerate: true });
    const clips = await screen.findByRole("list", { name: "Clips" });
    expect(within(clips).getByRole("button", { name: "Delete" })).toBeInTheDocument();
    expect(within(screen.getByRole("list", { name: "Past broadcasts" })).queryByRole("button", { name: "Delete" })).toBeNull();
  });

  it("lets the viewer who cut a clip delete it, and no other", async () => {
    fakeFetch(routes(streamDetail(), [clip({ id: "c1", createdBy: "vic" }), clip({ id: "c2", createdBy: "ann" })]));
    await watching({ role: "viewer", handle: "vic" });
    const clips = await screen.findByRole("list", { name: "Clips" });
    await vi.waitFor(() => expect(within(clips).getAllByRole("button", { name: "Delete" })).toHaveLength(1));
    const [mine] = within(clips).getAllByTestId("recording-item");
    expect(within(mine!).getByRole("button", { name: "Delete" })).toBeInTheDocument();
  });
});
