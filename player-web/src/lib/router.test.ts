import { describe, expect, it } from "vitest";
import { parseRoute } from "./router";

describe("parseRoute", () => {
  it("knows the app's pages", () => {
    expect(parseRoute("/")).toEqual({ page: "discover" });
    expect(parseRoute("/watch/ab12")).toEqual({ page: "watch", streamId: "ab12" });
    expect(parseRoute("/studio")).toEqual({ page: "studio", streamId: null });
    expect(parseRoute("/studio/ab12/")).toEqual({ page: "studio", streamId: "ab12" });
    expect(parseRoute("/replay/0f3a9c")).toEqual({ page: "replay", recordingId: "0f3a9c" });
    expect(parseRoute("/replay")).toEqual({ page: "notFound" });
    expect(parseRoute("/replay/a/b")).toEqual({ page: "notFound" });
    expect(parseRoute("/watch")).toEqual({ page: "notFound" });
    expect(parseRoute("/nope")).toEqual({ page: "notFound" });
  });
});
