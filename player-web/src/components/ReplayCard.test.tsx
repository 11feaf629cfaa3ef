import { fireEvent, render, screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { replay } from "../test/recordings";
import { ReplayCard } from "./ReplayCard";

describe("ReplayCard", () => {
  it("shows the poster, the title and the stream's, the creator, the length and the date", () => {
    render(<ReplayCard replay={replay()} onOpen={() => undefined} />);
    expect(screen.getByRole("heading", { name: "Friday jam" })).toBeInTheDocument();
    expect(screen.getByText("Jam nights")).toBeInTheDocument();
    expect(screen.getByText("Carla")).toBeInTheDocument();
    expect(screen.getByText("1:02:05")).toBeInTheDocument();
    expect(document.querySelector("time")).toHaveAttribute("dateTime", "2026-11-27T20:00:00.000Z");
    expect(document.querySelector("img")).toHaveAttribute("src", "/vod/r1/poster.jpg");
    expect(screen.getByRole("link")).toHaveAttribute("href", "/replay/r1");
  });

  it("names the stream once when the recording has its title, and renders titles as text", () => {
    render(<ReplayCard replay={replay({ title: "", streamTitle: "<b>Jam</b>" })} onOpen={() => undefined} />);
    expect(screen.getByRole("heading", { name: "<b>Jam</b>" })).toBeInTheDocument();
    expect(screen.getAllByText("<b>Jam</b>")).toHaveLength(1);
    expect(document.querySelector("b")).toBeNull();
  });

  it("opens in the app on a plain click, and lets a modified click through", () => {
    const onOpen = vi.fn();
    render(<ReplayCard replay={replay()} onOpen={onOpen} />);
    fireEvent.click(screen.getByRole("link"));
    expect(onOpen).toHaveBeenCalledWith("r1");
    fireEvent.click(screen.getByRole("link"), { metaKey: true });
    expect(onOpen).toHaveBeenCalledTimes(1);
  });
});
