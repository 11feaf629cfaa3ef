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

  it("waits for samples before drawing", async () => {
    fakeFetch({ "GET /api/streams/s1/health": () => ({ body: { samples: [], intervalSec: 5 } }) });
    render(<HealthPanel streamId="s1" live={null} />);
    expect(await screen.findByText("Bitrate (kbit/s): collecting…")).toBeInTheDocument();
  });
});
