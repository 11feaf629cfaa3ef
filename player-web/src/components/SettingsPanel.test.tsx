import { act, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { fakeFetch } from "../test/fakes";
import { SettingsPanel } from "./SettingsPanel";

afterEach(() => vi.unstubAllGlobals());

const settings = {
  dvrWindowSec: 120, ageRestricted: false, watermark: false, slowModeSec: 0, guestsMayChat: true, blockedWords: ["spam"], realtimePlayback: false,
  record: true, recordKeepDays: null, replaysPublic: true,
};

describe("SettingsPanel", () => {
  it("saves the form and shows what the server stored", async () => {
    const { calls } = fakeFetch({
      "GET /api/streams/s1/settings": () => ({ body: settings }),
      "PATCH /api/streams/s1/settings": (call) => ({ body: { ...settings, ...(call.body as object), blockedWords: ["spam", "scam"] } }),
    });
    render(<SettingsPanel streamId="s1" />);
    fireEvent.change(await screen.findByLabelText(/Slow mode/), { target: { value: "10" } });
    fireEvent.click(screen.getByLabelText(/Age-restricted/));
    fireEvent.change(screen.getByLabelText(/Blocked words/), { target: { value: "spam, scam," } });
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Save settings" })));
    expect(calls.find((c) => c.method === "PATCH")?.body).toEqual({
      dvrWindowSec: 120, ageRestricted: true, watermark: false, slowModeSec: 10, guestsMayChat: true, blockedWords: ["spam", "scam"],
      realtimePlayback: false, record: true, recordKeepDays: null, replaysPublic: true,
    });
    expect(screen.getByText("Saved.")).toBeInTheDocument();
    expect(screen.getByLabelText(/Blocked words/)).toHaveValue("spam, scam");
  });

  it("makes Real-time the stream's default playback, and says when the server has WebRTC off", async () => {
    const { calls } = fakeFetch({
      "GET /api/streams/s1/settings": () => ({ body: settings }),
      "PATCH /api/streams/s1/settings": (call) => ({ body: { ...settings, ...(call.body as object) } }),
    });
    const { unmount } = render(<SettingsPanel streamId="s1" />);
    const toggle = await screen.findByRole("checkbox", { name: "Real-time playback by default" });
    expect(toggle).not.toBeChecked();
    expect(toggle).toHaveAccessibleDescription(/fall back to LL-HLS/);
    fireEvent.click(toggle);
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Save settings" })));
    expect(calls.find((c) => c.method === "PATCH")?.body).toMatchObject({ realtimePlayback: true });
    expect(screen.getByRole("checkbox", { name: "Real-time playback by default" })).toBeChecked();
    unmount();
    render(<SettingsPanel streamId="s1" realtimeOffered={false} />);
    expect(await screen.findByRole("checkbox", { name: "Real-time playback by default" })).toHaveAccessibleDescription(/WebRTC turned off/);
  });

  it("shows the server's validation message beside each field", async () => {
    fakeFetch({
      "GET /api/streams/s1/settings": () => ({ body: settings }),
      "PATCH /api/streams/s1/settings": () => ({
        status: 422,
        body: {
          error: "invalid dvrWindowSec: must be an integer from 0 to 7200",
          fields: { dvrWindowSec: "must be an integer from 0 to 7200", slowModeSec: "must be an integer from 0 to 3600" },
        },
      }),
    });
    render(<SettingsPanel streamId="s1" />);
    fireEvent.change(await screen.findByLabelText(/DVR window/), { target: { value: "9000" } });
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Save settings" })));
    const errors = screen.getAllByRole("alert").map((e) => e.textContent);
    expect(errors).toEqual(["must be an integer from 0 to 7200", "must be an integer from 0 to 3600"]);
  });

  it("turns recording off, keeps recordings a set number of days or the server's default, and makes replays private", async () => {
    const { calls } = fakeFetch({
      "GET /api/streams/s1/settings": () => ({ body: { ...settings, recordKeepDays: 7 } }),
      "PATCH /api/streams/s1/settings": (call) => ({ body: { ...settings, ...(call.body as object) } }),
    });
    render(<SettingsPanel streamId="s1" />);
    const keep = await screen.findByLabelText(/Keep recordings/);
    expect(keep).toHaveValue("7");
    expect(screen.getByRole("checkbox", { name: "Record my broadcasts" })).toBeChecked();
    fireEvent.click(screen.getByRole("checkbox", { name: "Record my broadcasts" }));
    fireEvent.change(keep, { target: { value: "0" } });
    const publicReplays = screen.getByRole("checkbox", { name: "Replays and clips are public" });
    expect(publicReplays).toHaveAccessibleDescription(/Anyone can watch/);
    fireEvent.click(publicReplays);
    expect(publicReplays).toHaveAccessibleDescription(/Only you, admins and your moderators/);
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Save settings" })));
    expect(calls.filter((c) => c.method === "PATCH").at(-1)?.body).toMatchObject({ record: false, recordKeepDays: 0, replaysPublic: false });
    expect(screen.getByLabelText(/Keep recordings/)).toHaveValue("0");
    // Emptied: the choice goes back to the server (null), and the server's answer shows as empty.
    fireEvent.change(screen.getByLabelText(/Keep recordings/), { target: { value: " " } });
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Save settings" })));
    expect(calls.filter((c) => c.method === "PATCH").at(-1)?.body).toMatchObject({ recordKeepDays: null });
    expect(screen.getByLabelText(/Keep recordings/)).toHaveValue("");
  });
});
