import { formatStart, formatViewers } from "../lib/format";
import type { StreamCard } from "../lib/types";
import { LiveBadge } from "./LiveBadge";

export function LiveCard({ stream, onOpen }: { stream: StreamCard; onOpen: (id: string) => void }) {
  const scheduled = stream.state === "preview" && stream.startAt !== null;
  return (
    <article className="live-card">
      <a
        href={`/watch/${encodeURIComponent(stream.id)}`}
        onClick={(event) => {
          if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
          event.preventDefault();
          onOpen(stream.id);
        }}
      >
        <div className="poster">
          {stream.posterUrl ? <img src={stream.posterUrl} alt="" loading="lazy" /> : <div className="poster-blank" />}
          <LiveBadge state={stream.state} scheduled={scheduled} />
          {(stream.state === "live" || stream.state === "reconnecting") && (
            <span className="viewer-count" aria-label={`${stream.viewers} watching`}>
              {formatViewers(stream.viewers)} watching
            </span>
          )}
          {stream.ageRestricted && <span className="age-flag">18+</span>}
        </div>
        <h3>{stream.title}</h3>
        <p className="creator">{stream.creator.displayName || stream.creator.handle}</p>
        {scheduled && stream.startAt && <p className="starts">Starts {formatStart(stream.startAt)}</p>}
      </a>
    </article>
  );
}

export function LiveCardSkeleton() {
  return (
    <article className="live-card skeleton" aria-hidden="true" data-testid="card-skeleton">
      <div className="poster" />
      <div className="line" />
      <div className="line short" />
    </article>
  );
}
