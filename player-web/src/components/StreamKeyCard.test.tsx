import { act, fireEvent, render, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { fakeFetch } from "../test/fakes";
import { StreamKeyCard } from "./StreamKeyCard";

afterEach(() => vi.unstubAllGlobals());

const masked = {
  keys: [
    { kind: "primary", masked: "live_••••••••AbCd", createdAt: "", srtStreamId: "#!::r=live/live_••••••••AbCd,m=publish" },
    { kind: "backup", masked: "live_••••••••WxYz", createdAt: "", srtStreamId: "#!::r=live/live_••••••••WxYz,m=publish" },
  ],
  rtmpServer: "rtmp://host:1935/live",
  srtServer: "srt://host:9000",
  srtPassphrase: "••••••••",
  srtEncrypted: true,
};
const revealed = (key: string, extra = {}) => ({
  kind: "primary", key, createdAt: "", rtmpServer: "rtmp://host:1935/live", rtmpUrl: `rtmp://host:1935/live/${key}`,
  srtUrl: `srt://host:9000?streamid=%23%21%3A%3Ar%3Dlive%2F${key}%2Cm%3Dpublish&passphrase=pp&pbkeylen=16`,
  srtStreamId: `#!::r=live/${key},m=publish`, srtPassphrase: "secret-passphrase", ...extra,
});

describe("StreamKeyCard", () => {
  it("shows the WHIP URL beside RTMP and SRT, and the bearer token with OBS's settings once a key is shown", async () => {
    const writeText = vi.fn().mockResolvedValue(undefined);
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    fakeFetch({
      "GET /api/streams/s1/keys": () => ({ body: { ...masked, whipUrl: "http://host:8080/whip/s1" } }),
      "POST /api/streams/s1/keys/primary/reveal": () => ({
        body: revealed("live_thesecretkey", { whipUrl: "http://host:8080/whip/s1", whipToken: "live_thesecretkey" }),
      }),
    });
    render(<StreamKeyCard streamId="s1" />);
    expect(await screen.findByTestId("whip-url")).toHaveTextContent("http://host:8080/whip/s1");
    expect(screen.getByText(/Service WHIP, Server this URL, Bearer Token the stream key/)).toBeInTheDocument();
    expect(screen.queryByText("live_thesecretkey")).toBeNull();
    const row = screen.getByTestId("key-primary");
    await act(async () => fireEvent.click(within(row).getByRole("button", { name: "Show" })));
    const whip = within(row).getByTestId("whip-primary");
    expect(within(whip).getByText("http://host:8080/whip/s1")).toBeInTheDocument();
    expect(within(whip).getByText("live_thesecretkey")).toBeInTheDocument();
    expect(within(whip).getByText(/Service: WHIP, Server: the WHIP URL, Bearer Token: this token/)).toBeInTheDocument();
    await act(async () => fireEvent.click(within(whip).getByRole("button", { name: "Copy primary WHIP bearer token" })));
    expect(writeText).toHaveBeenCalledWith("live_thesecretkey");
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Copy WHIP URL" })));
    expect(writeText).toHaveBeenCalledWith("http://host:8080/whip/s1");
  });

  it("shows the RTMPS server beside RTMP where the server has TLS, and nothing of it without", async () => {
    const writeText = vi.fn().mockResolvedValue(undefined);
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    fakeFetch({ "GET /api/streams/s1/keys": () => ({ body: { ...masked, rtmpsServer: "rtmps://host:1936/live" } }) });
    const { unmount } = render(<StreamKeyCard streamId="s1" />);
    expect(await screen.findByTestId("rtmps-server")).toHaveTextContent("rtmps://host:1936/live");
    expect(screen.getByText("rtmp://host:1935/live")).toBeInTheDocument();
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Copy RTMPS server" })));
    expect(writeText).toHaveBeenCalledWith("rtmps://host:1936/live");
    unmount();
    fakeFetch({ "GET /api/streams/s1/keys": () => ({ body: masked }) });
    render(<StreamKeyCard streamId="s1" />);
    expect(await screen.findByText("rtmp://host:1935/live")).toBeInTheDocument();
    expect(screen.queryByText(/RTMPS/)).toBeNull();
  });

  it("shows no WHIP where the server has WebRTC off", async () => {
    fakeFetch({
      "GET /api/streams/s1/keys": () => ({ body: masked }),
      "POST /api/streams/s1/keys/primary/reveal": () => ({ body: revealed("live_thesecretkey") }),
    });
    render(<StreamKeyCard streamId="s1" />);
    const row = await screen.findByTestId("key-primary");
    await act(async () => fireEvent.click(within(row).getByRole("button", { name: "Show" })));
    expect(screen.queryByText(/WHIP/)).toBeNull();
  });

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

  it("shows the SRT stream id masked, and every SRT caller's settings once revealed, each copyable", async () => {
    const writeText = vi.fn().mockResolvedValue(undefined);
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    fakeFetch({
      "GET /api/streams/s1/keys": () => ({ body: masked }),
      "POST /api/streams/s1/keys/primary/reveal": () => ({ body: revealed("live_thesecretkey") }),
    });
    render(<StreamKeyCard streamId="s1" />);
    const row = await screen.findByTestId("key-primary");
    expect(within(row).getByText("#!::r=live/live_••••••••AbCd,m=publish")).toBeInTheDocument();
    await act(async () => fireEvent.click(within(row).getByRole("button", { name: "Show" })));
    const srt = within(row).getByTestId("srt-primary");
    const url = "srt://host:9000?streamid=%23%21%3A%3Ar%3Dlive%2Flive_thesecretkey%2Cm%3Dpublish&passphrase=pp&pbkeylen=16";
    expect(within(srt).getByText(url)).toBeInTheDocument();
    expect(srt).toHaveTextContent("Server: this URL, Stream Key: leave empty");
    expect(within(srt).getByText(`srt-live-transmit udp://:5000 '${url}'`)).toBeInTheDocument();
    expect(within(srt).getByText("#!::r=live/live_thesecretkey,m=publish")).toBeInTheDocument();
    expect(srt).toHaveTextContent("key length 16 (AES-128)");
    for (const [label, value] of [
      ["Copy primary SRT URL", url],
      ["Copy primary srt-live-transmit command", `srt-live-transmit udp://:5000 '${url}'`],
      ["Copy primary SRT stream ID", "#!::r=live/live_thesecretkey,m=publish"],
    ] as const) {
      await act(async () => fireEvent.click(within(srt).getByRole("button", { name: label })));
      expect(writeText).toHaveBeenLastCalledWith(value);
    }
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Copy SRT server" })));
    expect(writeText).toHaveBeenLastCalledWith("srt://host:9000");
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
