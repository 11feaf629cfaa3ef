import { fireEvent, render, screen, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { EngineBadge, LatencyReadout, PlaybackModeSwitch } from "./PlaybackModeSwitch";

describe("PlaybackModeSwitch", () => {
  it("shows the mode playing as pressed and offers the other", () => {
    const onChoose = vi.fn();
    render(<PlaybackModeSwitch mode="realtime" onChoose={onChoose} />);
    const group = screen.getByRole("group", { name: "Playback mode" });
    expect(within(group).getByRole("button", { name: "Real-time" })).toHaveAttribute("aria-pressed", "true");
    expect(within(group).getByRole("button", { name: "LL-HLS" })).toHaveAttribute("aria-pressed", "false");
    fireEvent.click(within(group).getByRole("button", { name: "Real-time" }));
    expect(onChoose).not.toHaveBeenCalled();
    fireEvent.click(within(group).getByRole("button", { name: "LL-HLS" }));
    expect(onChoose).toHaveBeenCalledWith("llhls");
  });
});

describe("EngineBadge", () => {
  it("names the engine playing", () => {
    const { rerender } = render(<EngineBadge mode="realtime" />);
    expect(screen.getByTestId("engine-badge")).toHaveTextContent("Real-time");
    rerender(<EngineBadge mode="llhls" />);
    expect(screen.getByTestId("engine-badge")).toHaveTextContent("LL-HLS");
    expect(screen.getByTestId("engine-badge")).toHaveAttribute("data-mode", "llhls");
  });
});

describe("LatencyReadout", () => {
  it("labels the WebRTC figure as the network and buffer estimate it is", () => {
    const { rerender } = render(<LatencyReadout mode="realtime" seconds={0.0712} />);
    expect(screen.getByTestId("latency")).toHaveTextContent("≈0.07 s network + buffer");
    rerender(<LatencyReadout mode="llhls" seconds={2.5} />);
    expect(screen.getByTestId("latency")).toHaveTextContent("2.50 s behind live");
  });
});
