import { act, fireEvent, render, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { fakeFetch } from "../test/fakes";
import { StreamKeyCard } from "./StreamKeyCard";

afterEach(() => vi.unstubAllGlobals());

const masked = {
  keys: [
    { kind: "primary", masked: "live_••••••••AbCd", createdAt: "" },
    { kind: "backup", masked: "live_••••••••WxYz", createdAt: "" },
  ],
  rtmpServer: "rtmp://host:1935/live",
  srtServer: "srt://host:9000",
  srtPassphrase: "••••••••",
  srtEncrypted: true,
};
const revealed = (key: string, extra = {}) => ({
  kind: "primary", key, createdAt: "", rtmpServer: "rtmp://host:1935/live", rtmpUrl: `rtmp://host:1935/live/${key}`,
  srtUrl: `srt://host:9000?streamid=x&passphrase=pp`, srtPassphrase: "secret-passphrase", ...extra,
});

describe("StreamKeyCard", () => {
  it("shows keys masked, with the ingest URLs and a security note", async () => {
    fakeFetch({ "GET /api/streams/s1/keys": () => ({ body: masked }) });
    render(<StreamKeyCard streamId="s1" />);
    expect(await screen.findByText("live_••••••••AbCd")).toBeInTheDocument();
    expect(screen.getByText("rtmp://host:1935/live")).toBeInTheDocument();
    expect(screen.getByText("srt://host:9000")).toBeInTheDocument();
    expect(screen.getByTestId("srt-passphrase")).toHaveTextContent("••••••••");
    expect(screen.getByText(/Anyone with a key can stream as you/)).toBeInTheDocument();
  });

  it("shows, copies and hides a key on request", async () => {
    const writeText = vi.fn().mockResolvedValue(undefined);
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    const { calls } = fakeFetch({
      "GET /api/streams/s1/keys": () => ({ body: masked }),
      "POST /api/streams/s1/keys/primary/reveal": () => ({ body: revealed("live_thesecretkey") }),
    });
    render(<StreamKeyCard streamId="s1" />);
    const row = await screen.findByTestId("key-primary");
    await act(async () => fireEvent.click(within(row).getByRole("button", { name: "Show" })));
    expect(within(row).getByText("live_thesecretkey")).toBeInTheDocument();
    expect(screen.getByTestId("srt-passphrase")).toHaveTextContent("secret-passphrase");
    await act(async () => fireEvent.click(within(row).getByRole("button", { name: "Copy primary key" })));
    expect(writeText).toHaveBeenCalledWith("live_thesecretkey");
    fireEvent.click(within(row).getByRole("button", { name: "Hide" }));
    expect(within(row).queryByText("live_thesecretkey")).toBeNull();
    expect(calls.filter((c) => c.method === "POST")).toHaveLength(1);
  });

  it("rotates only after a confirmation, and says the encoder was dropped", async () => {
    const { calls } = fakeFetch({
      "GET /api/streams/s1/keys": () => ({ body: masked }),
      "POST /api/streams/s1/keys/primary/rotate": () => ({ body: revealed("live_brandnew", { publisherDisconnected: true }) }),
    });
    render(<StreamKeyCard streamId="s1" />);
    const row = await screen.findByTestId("key-primary");
    fireEvent.click(within(row).getByRole("button", { name: "Rotate…" }));
    fireEvent.click(within(row).getByRole("button", { name: "Cancel" }));
    expect(calls.filter((c) => c.method === "POST")).toHaveLength(0);
    fireEvent.click(within(row).getByRole("button", { name: "Rotate…" }));
    await act(async () => fireEvent.click(within(row).getByRole("button", { name: "Rotate" })));
    expect(calls.filter((c) => c.method === "POST").map((c) => c.path)).toEqual(["/api/streams/s1/keys/primary/rotate"]);
    expect(within(row).getByText("live_brandnew")).toBeInTheDocument();
    expect(screen.getByText(/The encoder using the old key was disconnected/)).toBeInTheDocument();
  });
});
