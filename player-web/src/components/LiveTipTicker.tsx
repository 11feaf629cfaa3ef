import { useEffect, useRef, useState } from "react";
import { formatMoney } from "../lib/format";
import { TipQueue } from "../lib/tipQueue";
import type { Tip } from "../lib/messages";

export interface TipFeed {
  subscribe: (listener: (tip: Tip) => void) => () => void;
}

/** Tip notifications over the top of the player, one at a time, sliding right to left. */
export function LiveTipTicker({ feed, durationMs = 8000 }: { feed: TipFeed; durationMs?: number }) {
  const [tip, setTip] = useState<Tip | null>(null);
  const queue = useRef<TipQueue | null>(null);
  useEffect(() => {
    const tips = new TipQueue(setTip, durationMs);
    queue.current = tips;
    const unsubscribe = feed.subscribe((incoming) => tips.push(incoming));
    return () => {
      unsubscribe();
      tips.dispose();
    };
  }, [feed, durationMs]);
  if (tip === null) return null;
  return (
    <div className="tip-ticker" role="status" aria-live="polite">
      <div className="tip" key={tip.id} style={{ animationDuration: `${durationMs}ms` }}>
        <strong>{tip.from}</strong> tipped {formatMoney(tip.amountMinor, tip.currency)}
        {tip.message && <span className="tip-message">: {tip.message}</span>}
      </div>
    </div>
  );
}
