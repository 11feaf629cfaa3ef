import { fireEvent, render, screen } from "@testing-library/react";
import { useState } from "react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ErrorBoundary } from "./ErrorBoundary";
import { OfflineBanner } from "./OfflineBanner";
import { act } from "@testing-library/react";

let broken = true;
function Fragile() {
  if (broken) throw new Error("boom");
  return <p>working</p>;
}

afterEach(() => vi.restoreAllMocks());

describe("ErrorBoundary", () => {
  it("shows what failed with a retry, and leaves the rest of the page alone", () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    function Page() {
      const [count] = useState(1);
      return (
        <>
          <p>chat still here {count}</p>
          <ErrorBoundary what="the player">
            <Fragile />
          </ErrorBoundary>
        </>
      );
    }
    render(<Page />);
    expect(screen.getByRole("alert")).toHaveTextContent("Something went wrong in the player.");
    expect(screen.getByText("chat still here 1")).toBeInTheDocument();
    broken = false;
    fireEvent.click(screen.getByRole("button", { name: "Try again" }));
    expect(screen.getByText("working")).toBeInTheDocument();
  });
});

describe("OfflineBanner", () => {
  it("appears when the browser goes offline and leaves when it is back", () => {
    render(<OfflineBanner />);
    expect(screen.queryByRole("status")).toBeNull();
    const online = vi.spyOn(navigator, "onLine", "get");
    online.mockReturnValue(false);
    act(() => {
      window.dispatchEvent(new Event("offline"));
    });
    expect(screen.getByRole("status")).toHaveTextContent("You are offline");
    online.mockReturnValue(true);
    act(() => {
      window.dispatchEvent(new Event("online"));
    });
    expect(screen.queryByRole("status")).toBeNull();
  });
});
