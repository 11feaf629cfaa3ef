import { act, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { StreamDetail } from "../lib/types";
import { fakeFetch } from "../test/fakes";
import { StatusControl } from "./StatusControl";

const stream: StreamDetail = {
  id: "s1", title: "Jam", posterUrl: "", state: "preview", creator: { handle: "carla", displayName: "Carla" }, viewers: 0,
  startAt: null, endedAt: null, ageRestricted: false, dvrWindowSec: 120, slowModeSec: 0, guestsMayChat: true, realtimePlayback: false,
  createdAt: "", updatedAt: "", hlsUrl: "http://localhost/hls/s1/index.m3u8", playerUrl: "",
};

beforeEach(() => {
  vi.spyOn(HTMLMediaElement.prototype, "load").mockImplementation(() => undefined);
});
afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe("StatusControl", () => {
  it("goes live, or says why not", async () => {
    let publishing = false;
    fakeFetch({
      "PUT /api/streams/s1/state": () =>
        publishing ? { body: { ...stream, state: "live" } } : { status: 409, body: { error: "a stream can go live only while a publisher is connected" } },
    });
    const onChanged = vi.fn();
    render(<StatusControl stream={stream} state="preview" onChanged={onChanged} />);
    expect(screen.getByTestId("live-player")).toBeInTheDocument(); // the preview player
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Go live" })));
    expect(screen.getByRole("alert")).toHaveTextContent("only while a publisher is connected");
    publishing = true;
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Go live" })));
    expect(onChanged).toHaveBeenCalledWith(expect.objectContaining({ state: "live" }));
  });

  it("ends the stream after a confirmation", async () => {
    const { calls } = fakeFetch({ "PUT /api/streams/s1/state": () => ({ body: { ...stream, state: "ended" } }) });
    const onChanged = vi.fn();
    render(<StatusControl stream={stream} state="live" onChanged={onChanged} />);
    expect(screen.queryByRole("button", { name: "Go live" })).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: "End…" }));
    expect(calls).toHaveLength(0);
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "End stream" })));
    expect(calls.map((c) => c.body)).toEqual([{ state: "ended" }]);
    expect(onChanged).toHaveBeenCalledWith(expect.objectContaining({ state: "ended" }));
  });

  it("shows no player once ended", () => {
    render(<StatusControl stream={stream} state="ended" onChanged={() => undefined} />);
    expect(screen.queryByTestId("live-player")).toBeNull();
    expect(screen.getByText(/The stream has ended/)).toBeInTheDocument();
  });

  it("shows a stream waiting for its encoder as reconnecting, which the creator may end", async () => {
    const { calls } = fakeFetch({ "PUT /api/streams/s1/state": () => ({ body: { ...stream, state: "ended" } }) });
    render(<StatusControl stream={{ ...stream, state: "reconnecting" }} state="reconnecting" onChanged={vi.fn()} />);
    expect(screen.getByLabelText("reconnecting")).toHaveTextContent("RECONNECTING");
    expect(screen.getByText(/Your encoder disconnected/)).toBeInTheDocument();
    expect(screen.getByTestId("live-player")).toHaveAttribute("data-stream-state", "reconnecting");
    expect(screen.queryByRole("button", { name: "Go live" })).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: "End…" }));
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "End stream" })));
    expect(calls.at(-1)).toMatchObject({ method: "PUT", body: { state: "ended" } });
  });
});
