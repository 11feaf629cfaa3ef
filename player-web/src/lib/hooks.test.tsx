import { act, renderHook } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { asWebSocket, FakeWebSocket } from "../test/fakes";
import { useCountdown, useOnline } from "./hooks";
import { navigate, useRoute } from "./router";
import { useChannel } from "./useChannel";

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
  FakeWebSocket.reset();
  window.history.pushState(null, "", "/");
});

describe("useCountdown", () => {
  it("counts whole seconds down to zero, and restarts with a new deadline", () => {
    vi.useFakeTimers();
    const { result, rerender } = renderHook(({ until }) => useCountdown(until), {
      initialProps: { until: Date.now() + 3000 as number | null },
    });
    expect(result.current).toBe(3);
    act(() => vi.advanceTimersByTime(1250));
    expect(result.current).toBe(2);
    act(() => vi.advanceTimersByTime(2000));
    expect(result.current).toBe(0);
    rerender({ until: Date.now() + 10_000 });
    expect(result.current).toBe(10);
    rerender({ until: null });
    expect(result.current).toBe(0);
  });
});

describe("useOnline", () => {
  it("follows the browser's online and offline events", () => {
    const online = vi.spyOn(navigator, "onLine", "get").mockReturnValue(true);
    const { result } = renderHook(() => useOnline());
    expect(result.current).toBe(true);
    online.mockReturnValue(false);
    act(() => {
      window.dispatchEvent(new Event("offline"));
    });
    expect(result.current).toBe(false);
  });
});

describe("useRoute", () => {
  it("follows navigation and the back button", () => {
    const { result } = renderHook(() => useRoute());
    expect(result.current).toEqual({ page: "discover" });
    act(() => navigate("/watch/ab12"));
    expect(result.current).toEqual({ page: "watch", streamId: "ab12" });
    act(() => {
      window.history.pushState(null, "", "/studio");
      window.dispatchEvent(new PopStateEvent("popstate"));
    });
    expect(result.current).toEqual({ page: "studio", streamId: null });
  });
});

describe("useChannel", () => {
  it("opens the stream's channel on mount, reflects its messages, and closes it on unmount", () => {
    vi.stubGlobal("WebSocket", asWebSocket);
    const { result, unmount } = renderHook(() => useChannel("ab12"));
    const socket = FakeWebSocket.last();
    expect(socket.url).toMatch(/\/ws\/streams\/ab12$/);
    act(() => {
      socket.open();
      socket.receive({ type: "viewers", count: 42 });
    });
    expect(result.current[1]?.viewers).toBe(42);
    expect(result.current[1]?.mode).toBe("socket");
    unmount();
    expect(socket.readyState).toBe(3);
  });

  it("does nothing without a stream", () => {
    vi.stubGlobal("WebSocket", asWebSocket);
    const { result } = renderHook(() => useChannel(null));
    expect(result.current).toEqual([null, null]);
    expect(FakeWebSocket.instances).toHaveLength(0);
  });
});
