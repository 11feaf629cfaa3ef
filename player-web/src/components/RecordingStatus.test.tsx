import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { RecordingHealth } from "../lib/messages";
import { RecordingStatus } from "./RecordingStatus";

const running: RecordingHealth = { recordingId: "r1", state: "recording", durationSec: 754, sizeBytes: 1_200_000_000, skippedSegments: 0, warning: null };

describe("RecordingStatus", () => {
  it("shows a running recording's length and size, linked to its replay", () => {
    render(<RecordingStatus recording={running} />);
    expect(screen.getByRole("heading", { name: "Recording" })).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "12:34" })).toHaveAttribute("href", "/replay/r1");
    expect(screen.getByText(/1\.2 GB/)).toBeInTheDocument();
    expect(screen.queryByRole("status")).toBeNull();
  });

  it("warns when the disk falls behind, and alerts when the recording stopped", () => {
    const { rerender } = render(<RecordingStatus recording={{ ...running, skippedSegments: 3 }} />);
    expect(screen.getByText(/3 segments skipped/)).toBeInTheDocument();
    expect(screen.getByRole("status")).toHaveTextContent("The disk is slower than the stream.");
    rerender(<RecordingStatus recording={{ ...running, state: "stopped", warning: "the disk is full" }} />);
    expect(screen.getByRole("heading", { name: "Recording stopped" })).toBeInTheDocument();
    expect(screen.getByRole("alert")).toHaveTextContent("the disk is full Viewers still watch live");
  });

  it("shows nothing while the broadcast is not recorded", () => {
    const { container } = render(<RecordingStatus recording={null} />);
    expect(container).toBeEmptyDOMElement();
  });
});
