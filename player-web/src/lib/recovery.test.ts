import { describe, expect, it } from "vitest";
import { RecoveryPolicy } from "./recovery";

describe("RecoveryPolicy", () => {
  it("recovers media errors at most once every five seconds", () => {
    const policy = new RecoveryPolicy();
    expect(policy.onFatal("media", 1000)).toEqual({ kind: "recoverMedia" });
    expect(policy.onFatal("media", 5999).kind).toBe("giveUp");
    expect(policy.onFatal("media", 6000)).toEqual({ kind: "recoverMedia" });
  });

  it("retries network errors with exponential backoff, capped, reset by progress", () => {
    const policy = new RecoveryPolicy(5000, 1000, 8000);
    const delays = [0, 1, 2, 3, 4].map(() => {
      const action = policy.onFatal("network", 0);
      return action.kind === "retryNetwork" ? action.delayMs : -1;
    });
    expect(delays).toEqual([1000, 2000, 4000, 8000, 8000]);
    policy.onProgress();
    expect(policy.onFatal("network", 0)).toEqual({ kind: "retryNetwork", delayMs: 1000 });
  });

  it("gives up on the network after its attempts", () => {
    const policy = new RecoveryPolicy(5000, 10, 10, 2);
    policy.onFatal("network", 0);
    policy.onFatal("network", 0);
    expect(policy.onFatal("network", 0).kind).toBe("giveUp");
    expect(policy.onFatal("other", 0).kind).toBe("giveUp");
  });
});
