import { afterEach, describe, expect, it, vi } from "vitest";
import { fakeFetch } from "../test/fakes";
import { api, ApiError } from "./api";

describe("api", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("refreshes the session once on 401 and repeats the call", async () => {
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
