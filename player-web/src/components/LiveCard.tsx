import { formatStart, formatViewers } from "../lib/format";
import { mediaUrl } from "../lib/recordings";
import type { StreamCard } from "../lib/types";
import { THUMBNAIL_REFRESH_MS, useRefreshedUrl } from "../lib/useRefreshedUrl";
import { LiveBadge } from "./LiveBadge";
import { AppLink } from "./AppLink";
import { Picture } from "./Picture";

export function LiveCard({ stream, onOpen }: { stream: StreamCard; onOpen: (id: string) => void }) {
  const scheduled = stream.state === "preview" && stream.startAt !== null;
  // The creator's poster wins; else the live thumbnail, fetched again as the stream goes on.
  const thumbnail = useRefreshedUrl(!stream.posterUrl && stream.thumbnailUrl ? mediaUrl(stream.thumbnailUrl) : null, THUMBNAIL_REFRESH_MS);
  return (
    <article className="live-card">
      <AppLink href={`/watch/${encodeURIComponent(stream.id)}`} onOpen={() => onOpen(stream.id)}>
        <div className="poster">
          <Picture src={stream.posterUrl || thumbnail} />
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
      </AppLink>
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
