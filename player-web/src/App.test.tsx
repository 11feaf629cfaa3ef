import { act, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { App } from "./App";
import { navigate } from "./lib/router";
import { fakeFetch } from "./test/fakes";

afterEach(() => {
  vi.unstubAllGlobals();
  window.history.pushState(null, "", "/");
});

describe("App", () => {
  it("routes between discovery, the control room and an unknown page", async () => {
    fakeFetch({
      "GET /api/streams": () => ({ body: { streams: [] } }),
      "GET /api/me": () => ({ status: 401, body: { error: "sign in first" } }),
      "POST /api/auth/refresh": () => ({ status: 401, body: { error: "no refresh token" } }),
      "POST /api/auth/logout": () => ({ status: 204 }),
    });
    render(<App />);
    expect(await screen.findByRole("heading", { name: "Live now" })).toBeInTheDocument();
    act(() => navigate("/studio"));
    expect(await screen.findByRole("heading", { name: "Sign in to the control room" })).toBeInTheDocument();
    act(() => navigate("/nowhere"));
    expect(screen.getByText("Page not found.")).toBeInTheDocument();
  });
});
