// Tips wait their turn: one shown at a time, each for `durationMs`, in arrival order.
import type { Tip } from "./messages";

export class TipQueue {
  private readonly waiting: Tip[] = [];
  private readonly seen = new Set<number>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  current: Tip | null = null;

  constructor(
    private readonly show: (tip: Tip | null) => void,
    readonly durationMs = 8000,
  ) {}

  /** Queue a tip (a tip seen before, from a replay or both transports, is ignored). */
  push(tip: Tip): void {
    if (this.seen.has(tip.id)) return;
    this.seen.add(tip.id);
    this.waiting.push(tip);
    if (this.current === null) this.next();
  }

  get pending(): number {
    return this.waiting.length;
  }

  private next(): void {
    this.current = this.waiting.shift() ?? null;
    this.show(this.current);
    if (this.current !== null) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.next();
      }, this.durationMs);
    }
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.waiting.length = 0;
    this.current = null;
  }
}
