import type { PublisherHealth } from "../lib/messages";

/** A publisher that sent no media for this long is shown as stalled (the server's own
 * failover threshold defaults to 1 s). */
const STALLED_AFTER_SEC = 1;

function status(publisher: PublisherHealth): { text: string; warn: boolean } {
  if (publisher.sinceMediaSec >= STALLED_AFTER_SEC) {
    return { text: `No media for ${publisher.sinceMediaSec.toFixed(1)} s`, warn: true };
  }
  if (publisher.role === "active") return { text: "On air", warn: false };
  return publisher.ready
    ? { text: "Ready to take over", warn: false }
    : { text: "Waiting for a keyframe", warn: true };
}

/** The stream's encoders from the health channel: the one on air and the hot standby on
 * the other key, with what each sends. */
export function PublishersPanel({ publishers }: { publishers: PublisherHealth[] }) {
  if (publishers.length === 0) return null;
  return (
    <section className="card publishers-panel" aria-labelledby="publishers-title">
      <h2 id="publishers-title">Encoders</h2>
      <table>
        <thead>
          <tr>
            <th scope="col">Key</th>
            <th scope="col">Role</th>
            <th scope="col">Sending</th>
            <th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          {publishers.map((publisher) => {
            const { text, warn } = status(publisher);
            return (
              <tr key={publisher.key} data-testid={`publisher-${publisher.key}`}>
                <th scope="row">
                  {publisher.key === "primary" ? "Primary" : "Backup"} ({publisher.protocol.toUpperCase()})
                </th>
                <td>{publisher.role === "active" ? "Active" : "Standby"}</td>
                <td>
                  {Math.round(publisher.bitrateKbps)} kbit/s, {publisher.fps.toFixed(1)} fps
                </td>
                <td className={warn ? "warn" : undefined}>{text}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {publishers.length === 1 && (
        <p className="hint">
          No backup encoder. A second encoder on the {publishers[0]!.key === "primary" ? "backup" : "primary"} key
          waits as a hot standby and takes over within a second if this one fails.
        </p>
      )}
    </section>
  );
}
