import { afterEach, describe, expect, it, vi } from "vitest";
import { fakeFetch } from "../test/fakes";
import { api, ApiError, hasSession, SESSION_HINT_COOKIE } from "./api";

const signIn = () => (document.cookie = `${SESSION_HINT_COOKIE}=1; path=/`);

describe("api", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    document.cookie = `${SESSION_HINT_COOKIE}=; max-age=0; path=/`;
  });

  it("without a session, a 401 is the answer: no refresh, no sign-out, no second try", async () => {
    const { calls } = fakeFetch({ "GET /api/me": () => ({ status: 401, body: { error: "sign in first" } }) });
    expect(hasSession()).toBe(false);
    await expect(api("/api/me")).rejects.toMatchObject({ status: 401 });
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual(["GET /api/me"]);
  });

  it("refreshes the session once on 401 and repeats the call", async () => {
    signIn();
    expect(hasSession()).toBe(true);
    let refreshed = false;
    const { calls } = fakeFetch({
      "GET /api/me": () => (refreshed ? { body: { user: { handle: "carla" } } } : { status: 401, body: { error: "expired" } }),
      "POST /api/auth/refresh": () => {
        refreshed = true;
        return { body: {} };
      },
    });
    await expect(api("/api/me")).resolves.toEqual({ user: { handle: "carla" } });
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual(["GET /api/me", "POST /api/auth/refresh", "GET /api/me"]);
  });

  it("drops a session that cannot be renewed and asks again as a guest", async () => {
    signIn();
    let signedOut = false;
    const { calls } = fakeFetch({
      "GET /api/streams/s/events": () => (signedOut ? { body: { cursor: 0, events: [] } } : { status: 401, body: { error: "invalid token" } }),
      "POST /api/auth/refresh": () => ({ status: 401, body: { error: "no refresh token" } }),
      "POST /api/auth/logout": () => {
        signedOut = true;
        return { status: 204 };
      },
    });
    await expect(api("/api/streams/s/events")).resolves.toEqual({ cursor: 0, events: [] });
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual([
      "GET /api/streams/s/events", "POST /api/auth/refresh", "POST /api/auth/logout", "GET /api/streams/s/events",
    ]);
  });

  it("turns errors into ApiError with the server's message, fields and wait", async () => {
    fakeFetch({
      "PATCH /api/streams/s/settings": () => ({ status: 422, body: { error: "invalid dvrWindowSec", fields: { dvrWindowSec: "must be an integer from 0 to 7200" } } }),
      "POST /api/auth/login": () => ({ status: 429, body: { error: "too many" }, headers: { "Retry-After": "7" } }),
    });
    const invalid = await api("/api/streams/s/settings", { method: "PATCH", body: { dvrWindowSec: -1 } }).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(ApiError);
    expect((invalid as ApiError).fields).toEqual({ dvrWindowSec: "must be an integer from 0 to 7200" });
    const limited = await api("/api/auth/login", { method: "POST", body: {} }).catch((e: unknown) => e);
    expect(limited).toMatchObject({ status: 429, message: "too many", retryAfterMs: 7000 });
  });
});
