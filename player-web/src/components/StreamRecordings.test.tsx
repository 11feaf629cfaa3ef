import { act, fireEvent, render, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { fakeFetch } from "../test/fakes";
import { clip, recording } from "../test/recordings";
import { StreamRecordings } from "./StreamRecordings";

afterEach(() => vi.unstubAllGlobals());

const lists = (recordings: unknown[], clips: unknown[]) => ({
  "GET /api/streams/s1/recordings": () => ({ body: { recordings } }),
  "GET /api/streams/s1/clips": () => ({ body: { clips } }),
});

describe("StreamRecordings", () => {
  it("lists past broadcasts and clips with poster, length, date, watch and download links", async () => {
    fakeFetch(lists([recording({ id: "r2", state: "recording", title: "Tonight" }), recording({ interrupted: true })], [clip()]));
    render(<StreamRecordings streamId="s1" />);
    const broadcasts = await screen.findByRole("list", { name: "Past broadcasts" });
    const items = within(broadcasts).getAllByTestId("recording-item");
    expect(items.map((item) => item.getAttribute("data-recording-id"))).toEqual(["r2", "r1"]);
    expect(within(items[0]!).getByText("Recording now")).toBeInTheDocument();
    expect(within(items[1]!).getByText(/Interrupted/)).toBeInTheDocument();
    expect(within(items[1]!).getByRole("link", { name: "Watch" })).toHaveAttribute("href", "/replay/r1");
    expect(within(items[1]!).getByRole("link", { name: "Download MP4" })).toHaveAttribute("href", "/vod/r1/download.mp4");
    expect(items[1]!.querySelector("img")).toHaveAttribute("src", "/vod/r1/poster.jpg");
    expect(items[1]!).toHaveTextContent("1:02:05");
    expect(items[1]!).toHaveTextContent("2.4 GB");
    const clips = screen.getByRole("list", { name: "Clips" });
    expect(clips).toHaveTextContent("the goal");
    expect(clips).toHaveTextContent("by vic");
    expect(screen.queryByRole("button", { name: "Delete" })).toBeNull(); // not offered here
  });

  it("shows nothing of lists the server keeps private, and empty lists only where asked", async () => {
    fakeFetch({
      "GET /api/streams/s1/recordings": () => ({ status: 403, body: { error: "replays are private" } }),
      "GET /api/streams/s1/clips": () => ({ body: { clips: [] } }),
    });
    const { unmount } = render(<StreamRecordings streamId="s1" />);
    await act(async () => undefined);
    expect(screen.queryByRole("region")).toBeNull();
    expect(screen.queryByRole("alert")).toBeNull();
    unmount();
    fakeFetch(lists([], []));
    render(<StreamRecordings streamId="s1" emptyText={{ broadcasts: "No recordings yet.", clips: "No clips yet." }} />);
    expect(await screen.findByText("No recordings yet.")).toBeInTheDocument();
    expect(screen.getByText("No clips yet.")).toBeInTheDocument();
  });

  it("deletes after a confirmation, and shows the server's refusal", async () => {
    const { calls } = fakeFetch({
      ...lists([recording(), recording({ id: "r2", title: "Other" })], [clip()]),
      "DELETE /api/recordings/r1": () => ({ status: 204 }),
      "DELETE /api/recordings/c1": () => ({ status: 403, body: { error: "moderators of this stream only" } }),
    });
    render(<StreamRecordings streamId="s1" mayDelete={() => true} />);
    const broadcasts = await screen.findByRole("list", { name: "Past broadcasts" });
    const first = within(broadcasts).getAllByTestId("recording-item")[0]!;
    fireEvent.click(within(first).getByRole("button", { name: "Delete" }));
    const confirm = within(first).getByRole("alertdialog", { name: "Delete Friday jam?" });
    fireEvent.click(within(confirm).getByRole("button", { name: "Cancel" }));
    expect(calls.some((c) => c.method === "DELETE")).toBe(false);
    fireEvent.click(within(first).getByRole("button", { name: "Delete" }));
    await act(async () => fireEvent.click(within(within(first).getByRole("alertdialog")).getByRole("button", { name: "Delete" })));
    expect(calls.filter((c) => c.method === "DELETE").map((c) => c.path)).toEqual(["/api/recordings/r1"]);
    expect(within(broadcasts).getAllByTestId("recording-item").map((item) => item.getAttribute("data-recording-id"))).toEqual(["r2"]);
    const clips = screen.getByRole("list", { name: "Clips" });
    fireEvent.click(within(clips).getByRole("button", { name: "Delete" }));
    await act(async () => fireEvent.click(within(within(clips).getByRole("alertdialog")).getByRole("button", { name: "Delete" })));
    expect(within(clips).getByRole("alert")).toHaveTextContent("moderators of this stream only");
    expect(within(clips).getAllByTestId("recording-item")).toHaveLength(1);
  });

  it("loads the clips again when one was just cut, keeping the list meanwhile", async () => {
    let clips = [clip()];
    fakeFetch({
      "GET /api/streams/s1/recordings": () => ({ body: { recordings: [] } }),
      "GET /api/streams/s1/clips": () => ({ body: { clips } }),
    });
    const { rerender } = render(<StreamRecordings streamId="s1" clipsRevision={0} />);
    expect(await screen.findByText("the goal")).toBeInTheDocument();
    clips = [clip({ id: "c2", title: "the save" }), clip()];
    rerender(<StreamRecordings streamId="s1" clipsRevision={1} />);
    expect(screen.getByText("the goal")).toBeInTheDocument();
    expect(await screen.findByText("the save")).toBeInTheDocument();
  });

  it("says when a list could not be loaded, with a retry", async () => {
    let fail = true;
    fakeFetch({
      "GET /api/streams/s1/recordings": () => (fail ? { status: 500, body: { error: "disk error" } } : { body: { recordings: [recording()] } }),
      "GET /api/streams/s1/clips": () => ({ body: { clips: [] } }),
    });
    render(<StreamRecordings streamId="s1" />);
    expect(await screen.findByRole("alert")).toHaveTextContent("Could not load them: disk error");
    fail = false;
    fireEvent.click(screen.getByRole("button", { name: "Retry" }));
    expect(await screen.findByRole("list", { name: "Past broadcasts" })).toHaveTextContent("Friday jam");
  });

  it("offers delete only where it is told", async () => {
    fakeFetch(lists([recording()], [clip(), clip({ id: "c2", createdBy: "ann", title: "other" })]));
    render(<StreamRecordings streamId="s1" mayDelete={(r) => r.createdBy === "vic"} />);
    const clips = await screen.findByRole("list", { name: "Clips" });
    const [mine, theirs] = within(clips).getAllByTestId("recording-item");
    expect(within(mine!).getByRole("button", { name: "Delete" })).toBeInTheDocument();
    expect(within(theirs!).queryByRole("button", { name: "Delete" })).toBeNull();
    expect(within(screen.getByRole("list", { name: "Past broadcasts" })).queryByRole("button", { name: "Delete" })).toBeNull();
  });
});
