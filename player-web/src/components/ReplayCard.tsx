import { formatClock, formatStart } from "../lib/format";
import { mediaUrl, replayPath } from "../lib/recordings";
import type { Replay } from "../lib/types";
import { AppLink } from "./AppLink";
import { Picture } from "./Picture";

/** A past broadcast in discovery: its poster and length, what it was, whose, and when. */
export function ReplayCard({ replay, onOpen }: { replay: Replay; onOpen: (id: string) => void }) {
  const title = replay.title || replay.streamTitle;
  return (
    <article className="live-card replay-card">
      <AppLink href={replayPath(replay.id)} onOpen={() => onOpen(replay.id)}>
        <div className="poster">
          <Picture src={mediaUrl(replay.posterUrl)} />
          <span className="duration" aria-label={`${Math.round(replay.durationSec)} seconds`}>
            {formatClock(replay.durationSec)}
          </span>
        </div>
        <h3>{title}</h3>
        {replay.streamTitle && replay.streamTitle !== title && <p className="stream-title">{replay.streamTitle}</p>}
        <p className="creator">{replay.creator.displayName || replay.creator.handle}</p>
        <p className="starts">
          <time dateTime={replay.startedAt}>{formatStart(replay.startedAt)}</time>
        </p>
      </AppLink>
    </article>
  );
}
