import { render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { fakeFetch } from "../test/fakes";
import { HealthPanel } from "./HealthPanel";

afterEach(() => vi.unstubAllGlobals());

const now = Date.now();
const sample = (ago: number, kbps: number, viewers: number) => ({ at: now - ago, bitrateKbps: kbps, fps: 30, dropRate: 0, viewers });

describe("HealthPanel", () => {
  it("charts the last ten minutes, then follows the live samples", async () => {
    fakeFetch({
      "GET /api/streams/s1/health": () => ({ body: { samples: [sample(10_000, 2400, 3), sample(5_000, 2600, 4)], intervalSec: 5 } }),
    });
    const { rerender } = render(<HealthPanel streamId="s1" live={null} />);
    expect(await screen.findByText("2600 kbit/s")).toBeInTheDocument();
    expect(screen.getByRole("img", { name: "Bitrate (kbit/s), last 10 minutes" })).toBeInTheDocument();
    rerender(
      <HealthPanel streamId="s1" live={{ at: new Date(now).toISOString(), bitrateKbps: 1800, fps: 29.5, dropRate: 0.05, viewers: 9, advice: [], publishers: [] }} />,
    );
    const figures = screen.getByTestId("health-figures");
    expect(figures).toHaveTextContent("1800 kbit/s");
    expect(figures).toHaveTextContent("29.5 fps");
    expect(figures).toHaveTextContent("5.0 %");
    expect(figures).toHaveTextContent("9");
    expect(screen.getByText("5.0 %")).toHaveClass("warn");
  });

  it("shows what the players report: stalls per viewer-minute, median buffer, the rendition mix", async () => {
    fakeFetch({ "GET /api/streams/s1/health": () => ({ body: { samples: [], intervalSec: 5 } }) });
    const base = { at: new Date(now).toISOString(), bitrateKbps: 1800, fps: 30, dropRate: 0, viewers: 4, advice: [], publishers: [] };
    const { rerender } = render(<HealthPanel streamId="s1" live={base} />);
    expect(screen.getByTestId("player-quality")).toHaveTextContent("No player reports yet.");
    const quality = {
      sessions: 4,
      renditions: { source: 1, "720p": 3 },
      stalls: 3,
      viewingSec: 360,
      stallsPerViewerMinute: 0.5,
      bufferSec: 2.26,
      throughputKbps: 12_400,
    };
    rerender(<HealthPanel streamId="s1" live={{ ...base, quality }} />);
    const figures = await screen.findByTestId("player-quality");
    expect(figures).toHaveTextContent("Reporting4");
    expect(screen.getByText("0.50")).toHaveClass("warn");
    expect(figures).toHaveTextContent("2.3 s");
    expect(figures).toHaveTextContent("12.4 Mbit/s");
    const mix = screen.getAllByRole("listitem").map((item) => item.textContent);
    expect(mix).toEqual(["720p: 3 (75 %)", "source: 1 (25 %)"]);
    rerender(<HealthPanel streamId="s1" live={{ ...base, quality: { ...quality, stallsPerViewerMinute: 0.05, bufferSec: null, renditions: {} } }} />);
    expect(screen.getByText("0.05")).not.toHaveClass("warn");
    expect(screen.getByTestId("player-quality")).toHaveTextContent("Median buffer–");
    expect(screen.queryByRole("list", { name: "Rendition mix" })).toBeNull();
  });

  it("waits for samples before drawing", async () => {
    fakeFetch({ "GET /api/streams/s1/health": () => ({ body: { samples: [], intervalSec: 5 } }) });
    render(<HealthPanel streamId="s1" live={null} />);
    expect(await screen.findByText("Bitrate (kbit/s): collecting…")).toBeInTheDocument();
  });
});
