import { act, renderHook } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { useResource } from "./useResource";

/** A load the test answers when it chooses, recording the signal it was given. */
function loads<T>() {
  const pending: { key: string; signal: AbortSignal; resolve: (value: T) => void; reject: (error: unknown) => void }[] = [];
  const load = (key: string) => (signal: AbortSignal) =>
    new Promise<T>((resolve, reject) => pending.push({ key, signal, resolve, reject }));
  const last = () => {
    const call = pending[pending.length - 1];
    if (!call) throw new Error("nothing was loaded");
    return call;
  };
  return { pending, load, last };
}

describe("useResource", () => {
  it("loads on mount, then shows the value", async () => {
    const calls = loads<string[]>();
    const { result } = renderHook(() => useResource("/a", calls.load("/a")));
    expect(result.current).toMatchObject({ status: "loading", value: undefined, loading: true });
    expect(calls.pending).toHaveLength(1);
    await act(async () => calls.last().resolve(["x"]));
    expect(result.current).toMatchObject({ status: "ready", value: ["x"], loading: false, error: undefined });
  });

  it("says why it failed, and a retry loads again", async () => {
    const calls = loads<string>();
    const { result } = renderHook(() => useResource("/a", calls.load("/a")));
    const refused = new Error("store unavailable");
    await act(async () => calls.last().reject(refused));
    expect(result.current).toMatchObject({ status: "failed", error: refused, loading: false });
    let retried: Promise<void> = Promise.resolve();
    act(() => {
      retried = result.current.reload();
    });
    expect(result.current).toMatchObject({ status: "loading", error: undefined });
    await act(async () => {
      calls.last().resolve("fine");
      await retried;
    });
    expect(result.current).toMatchObject({ status: "ready", value: "fine" });
    expect(calls.pending).toHaveLength(2);
  });

  it("keeps showing the value while it reloads, and when a reload fails", async () => {
    const calls = loads<string>();
    const { result } = renderHook(() => useResource("/a", calls.load("/a")));
    await act(async () => calls.last().resolve("first"));
    act(() => void result.current.reload());
    expect(result.current).toMatchObject({ status: "ready", value: "first", loading: true });
    await act(async () => calls.last().reject(new Error("gone")));
    expect(result.current).toMatchObject({ status: "ready", value: "first", loading: false });
    expect(result.current.error).toEqual(new Error("gone"));
  });

  it("forgets the old value when the key changes, and drops the old key's answer", async () => {
    const calls = loads<string>();
    const { result, rerender } = renderHook(({ key }) => useResource(key, calls.load(key)), { initialProps: { key: "/a" } });
    await act(async () => calls.last().resolve("a1"));
    act(() => void result.current.reload());
    const stale = calls.last();
    rerender({ key: "/b" });
    expect(result.current).toMatchObject({ status: "loading", value: undefined });
    expect(stale.signal.aborted).toBe(true);
    expect(calls.last().key).toBe("/b"); // the newest load function is the one used
    await act(async () => stale.resolve("a2"));
    expect(result.current.status).toBe("loading");
    await act(async () => calls.last().resolve("b1"));
    expect(result.current).toMatchObject({ status: "ready", value: "b1" });
  });

  it("aborts the load in flight on unmount", () => {
    const calls = loads<string>();
    const { unmount } = renderHook(() => useResource("/a", calls.load("/a")));
    const call = calls.last();
    expect(call.signal.aborted).toBe(false);
    unmount();
    expect(call.signal.aborted).toBe(true);
  });

  it("takes a value set from elsewhere over a load still in flight", async () => {
    const calls = loads<string>();
    const { result } = renderHook(() => useResource("/a", calls.load("/a")));
    act(() => result.current.set("from a reply"));
    expect(result.current).toMatchObject({ status: "ready", value: "from a reply", loading: false });
    await act(async () => calls.last().resolve("older"));
    expect(result.current.value).toBe("from a reply");
  });
});
