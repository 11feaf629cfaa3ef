import { render, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { LivePlayer } from "./LivePlayer";

afterEach(() => vi.restoreAllMocks());

// jsdom has no Media Source Extensions, so the real hls.js reports itself unsupported:
// that is the path of a browser without MSE.
describe("LivePlayer without MSE", () => {
  it("falls back to native HLS where the browser has it (Safari)", async () => {
    vi.spyOn(HTMLMediaElement.prototype, "canPlayType").mockReturnValue("maybe");
    const play = vi.spyOn(HTMLMediaElement.prototype, "play").mockResolvedValue(undefined);
    vi.spyOn(HTMLMediaElement.prototype, "load").mockImplementation(() => undefined);
    render(<LivePlayer src="/hls/ab12/index.m3u8" streamId="ab12" report={false} />);
    await waitFor(() => expect(play).toHaveBeenCalled());
    expect(document.querySelector("video")?.getAttribute("src")).toBe("/hls/ab12/index.m3u8");
    expect(screen.getByTestId("live-player")).toHaveAttribute("data-status", "loading");
  });

  it("says the browser cannot play it otherwise, with a retry", async () => {
    vi.spyOn(HTMLMediaElement.prototype, "canPlayType").mockReturnValue("");
    vi.spyOn(HTMLMediaElement.prototype, "load").mockImplementation(() => undefined);
    render(<LivePlayer src="/hls/ab12/index.m3u8" streamId="ab12" report={false} />);
    expect(await screen.findByRole("alert")).toHaveTextContent("This browser cannot play the stream.");
    expect(screen.getByRole("button", { name: "Retry" })).toBeInTheDocument();
    expect(screen.getByTestId("live-player")).toHaveAttribute("data-status", "error");
  });

  it("preconnects to the media origin while mounted", () => {
    vi.spyOn(HTMLMediaElement.prototype, "load").mockImplementation(() => undefined);
    const { unmount } = render(<LivePlayer src="/hls/x/index.m3u8" streamId="x" report={false} />);
    expect(document.head.querySelector('link[rel="preconnect"]')).not.toBeNull();
    unmount();
    expect(document.head.querySelector('link[rel="preconnect"]')).toBeNull();
  });
});
