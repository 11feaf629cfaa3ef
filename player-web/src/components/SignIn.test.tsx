import { act, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { fakeFetch } from "../test/fakes";
import { SignIn } from "./SignIn";

afterEach(() => vi.unstubAllGlobals());

function fill(handle: string, password: string) {
  fireEvent.change(screen.getByLabelText("Handle"), { target: { value: handle } });
  fireEvent.change(screen.getByLabelText("Password"), { target: { value: password } });
}

describe("SignIn", () => {
  it("signs in with the handle and password", async () => {
    const { calls } = fakeFetch({ "POST /api/auth/login": () => ({ body: { user: { handle: "carla" } } }) });
    const onSignedIn = vi.fn();
    render(<SignIn onSignedIn={onSignedIn} />);
    fill("carla", "hunter22");
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Sign in" })));
    expect(calls[0]?.body).toEqual({ handle: "carla", password: "hunter22" });
    expect(onSignedIn).toHaveBeenCalledWith({ handle: "carla" });
  });

  it("shows the server's refusal", async () => {
    fakeFetch({ "POST /api/auth/login": () => ({ status: 401, body: { error: "wrong handle or password" } }) });
    render(<SignIn onSignedIn={() => undefined} />);
    fill("carla", "nope");
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Sign in" })));
    expect(screen.getByRole("alert")).toHaveTextContent("wrong handle or password");
  });
});
