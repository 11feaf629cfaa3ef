import { act, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { fakeFetch } from "../test/fakes";
import { clip } from "../test/recordings";
import { ClipMaker } from "./ClipMaker";

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

const lengths = () => screen.getAllByRole("radio").map((radio) => radio.parentElement?.textContent);

describe("ClipMaker", () => {
  it("cuts the chosen length with a title, and links to the clip", async () => {
    const onCreated = vi.fn();
    const { calls } = fakeFetch({ "POST /api/streams/s1/clips": () => ({ status: 201, body: clip({ id: "c7", title: "the goal" }) }) });
    render(<ClipMaker streamId="s1" onCreated={onCreated} />);
    fireEvent.click(screen.getByRole("button", { name: "Clip" }));
    expect(lengths()).toEqual(["15 s", "30 s", "60 s"]);
    expect(screen.getByRole("radio", { name: "30 s" })).toBeChecked();
    fireEvent.click(screen.getByRole("radio", { name: "60 s" }));
    fireEvent.change(screen.getByLabelText("Title (optional)"), { target: { value: "the goal" } });
    expect(screen.getByLabelText("Title (optional)")).toHaveAttribute("maxLength", "120");
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Create clip" })));
    expect(calls.map((c) => c.body)).toEqual([{ durationSec: 60, title: "the goal" }]);
    expect(screen.getByRole("status")).toHaveTextContent("Clip ready: the goal");
    expect(screen.getByRole("link", { name: "the goal" })).toHaveAttribute("href", "/replay/c7");
    expect(onCreated).toHaveBeenCalledWith(expect.objectContaining({ id: "c7" }));
  });

  it("offers no more than the server's maximum", () => {
    render(<ClipMaker streamId="s1" maxSec={20} />);
    fireEvent.click(screen.getByRole("button", { name: "Clip" }));
    expect(lengths()).toEqual(["15 s"]);
    expect(screen.getByRole("radio", { name: "15 s" })).toBeChecked();
  });

  it("says when the stream is not live", async () => {
    fakeFetch({ "POST /api/streams/s1/clips": () => ({ status: 409, body: { error: "the stream is not live" } }) });
    render(<ClipMaker streamId="s1" />);
    fireEvent.click(screen.getByRole("button", { name: "Clip" }));
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Create clip" })));
    expect(screen.getByRole("alert")).toHaveTextContent("Cannot clip now: the stream is not live");
  });

  it("waits out a 429 for as long as Retry-After says, counting down", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    let refuse = true;
    fakeFetch({
      "POST /api/streams/s1/clips": () =>
        refuse
          ? { status: 429, body: { error: "20 clips an hour at most" }, headers: { "Retry-After": "3" } }
          : { status: 201, body: clip() },
    });
    render(<ClipMaker streamId="s1" />);
    fireEvent.click(screen.getByRole("button", { name: "Clip" }));
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Create clip" })));
    expect(screen.getByRole("alert")).toHaveTextContent("Too many clips: 20 clips an hour at most Try again in 3 s.");
    expect(screen.getByRole("button", { name: "Create clip (in 3 s)" })).toBeDisabled();
    await act(async () => vi.advanceTimersByTime(3100));
    refuse = false;
    const again = screen.getByRole("button", { name: "Create clip" });
    expect(again).toBeEnabled();
    await act(async () => fireEvent.click(again));
    expect(screen.getByRole("status")).toHaveTextContent("Clip ready");
  });
});
