// What the player does about a fatal playback error: media errors are recovered at most
// once every 5 s (more often means the stream itself is broken); network errors are
// retried with exponential backoff, reset once data flows again.

export type RecoveryAction =
  | { kind: "recoverMedia" }
  | { kind: "retryNetwork"; delayMs: number }
  | { kind: "giveUp"; reason: string };

export class RecoveryPolicy {
  private lastMediaRecovery = -Infinity;
  private networkAttempts = 0;

  constructor(
    readonly mediaIntervalMs = 5000,
    readonly baseDelayMs = 1000,
    readonly maxDelayMs = 30_000,
    readonly maxNetworkAttempts = 12,
  ) {}

  onFatal(type: "media" | "network" | "other", now: number): RecoveryAction {
    if (type === "media") {
      if (now - this.lastMediaRecovery < this.mediaIntervalMs) {
        return { kind: "giveUp", reason: "the video cannot be decoded" };
      }
      this.lastMediaRecovery = now;
      return { kind: "recoverMedia" };
    }
    if (type === "network") {
      if (this.networkAttempts >= this.maxNetworkAttempts) {
        return { kind: "giveUp", reason: "the stream cannot be reached" };
      }
      const delayMs = Math.min(this.baseDelayMs * 2 ** this.networkAttempts, this.maxDelayMs);
      this.networkAttempts += 1;
      return { kind: "retryNetwork", delayMs };
    }
    return { kind: "giveUp", reason: "playback failed" };
  }

  /** Data arrived: the network is fine again. */
  onProgress(): void {
    this.networkAttempts = 0;
  }
}
