import { render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { PublisherHealth } from "../lib/messages";
import { PublishersPanel } from "./PublishersPanel";

const primary: PublisherHealth = {
  role: "active", key: "primary", protocol: "rtmp", frames: 9000, bitrateKbps: 2480.4, fps: 30, sinceMediaSec: 0, ready: true,
};
const backup: PublisherHealth = {
  role: "standby", key: "backup", protocol: "srt", frames: 8000, bitrateKbps: 1200, fps: 29.97, sinceMediaSec: 0.1, ready: true,
};

describe("PublishersPanel", () => {
  it("shows the encoder on air and the hot standby, with what each sends", () => {
    render(<PublishersPanel publishers={[primary, backup]} />);
    const onAir = screen.getByTestId("publisher-primary");
    expect(onAir).toHaveTextContent("Primary (RTMP)");
    expect(onAir).toHaveTextContent("Active");
    expect(onAir).toHaveTextContent("2480 kbit/s, 30.0 fps");
    expect(within(onAir).getByText("On air")).not.toHaveClass("warn");
    const standby = screen.getByTestId("publisher-backup");
    expect(standby).toHaveTextContent("Backup (SRT)");
    expect(standby).toHaveTextContent("Standby");
    expect(within(standby).getByText("Ready to take over")).toBeInTheDocument();
    expect(screen.queryByText(/No backup encoder/)).not.toBeInTheDocument();
  });

  it("warns about a stalled encoder and a standby without a keyframe", () => {
    render(
      <PublishersPanel
        publishers={[
          { ...backup, role: "active", sinceMediaSec: 3.24 },
          { ...primary, role: "standby", ready: false },
        ]}
      />,
    );
    expect(screen.getByText("No media for 3.2 s")).toHaveClass("warn");
    expect(screen.getByText("Waiting for a keyframe")).toHaveClass("warn");
  });

  it("suggests a backup encoder when there is only one, and shows nothing without any", () => {
    const { rerender, container } = render(<PublishersPanel publishers={[primary]} />);
    expect(screen.getByText(/No backup encoder\. A second encoder on the backup key/)).toBeInTheDocument();
    rerender(<PublishersPanel publishers={[]} />);
    expect(container).toBeEmptyDOMElement();
  });
});
