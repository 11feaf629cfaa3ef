import { render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { EncoderAdviceItem } from "../lib/messages";
import { EncoderAdvice } from "./EncoderAdvice";

const keyframes: EncoderAdviceItem = {
  code: "keyframe_interval",
  value: 8.3,
  unit: "s",
  limit: 2,
  message: "Keyframes come 8.3 s apart.",
  obs: "Settings > Output (Output Mode: Advanced) > Streaming > Keyframe Interval: 1 s or 2 s",
};
const sampleRate: EncoderAdviceItem = {
  code: "audio_sample_rate",
  value: 32000,
  unit: "Hz",
  limit: 48000,
  message: "The audio is sampled at 32 kHz.",
  obs: "Settings > Audio > General > Sample Rate: 48 kHz",
};

describe("EncoderAdvice", () => {
  it("shows nothing while all is well", () => {
    const { container } = render(<EncoderAdvice advice={[]} />);
    expect(container).toBeEmptyDOMElement();
  });

  it("says each problem, what was measured and what to set in OBS", () => {
    render(<EncoderAdvice advice={[keyframes, sampleRate]} />);
    const items = within(screen.getByRole("status")).getAllByRole("listitem");
    expect(items).toHaveLength(2);
    expect(items[0]).toHaveTextContent("Keyframes too far apart: 8.3 s (aim for 2 s)");
    expect(items[0]).toHaveTextContent("In OBS: Settings > Output (Output Mode: Advanced) > Streaming > Keyframe Interval: 1 s or 2 s");
    expect(items[1]).toHaveTextContent("Unusual audio sample rate: 32,000 Hz (aim for 48,000 Hz)");
  });

  it("names an advice it does not know by its code, as text", () => {
    render(<EncoderAdvice advice={[{ ...keyframes, code: "<b>new</b>", limit: null, message: "<i>x</i>" }]} />);
    const item = screen.getByRole("listitem");
    expect(item).toHaveTextContent("<b>new</b>: 8.3 s");
    expect(item).toHaveTextContent("<i>x</i>");
    expect(item.querySelector("b, i")).toBeNull();
  });
});
