/** Over the picture when playback stopped: why, and a way to start over. */
export function PlayerError({ message, onRetry }: { message: string | null; onRetry: () => void }) {
  return (
    <div className="player-overlay" role="alert">
      <p>{message}</p>
      <button type="button" onClick={onRetry}>
        Retry
      </button>
    </div>
  );
}
