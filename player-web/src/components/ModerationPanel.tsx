import { useState } from "react";
import { api, errorMessage } from "../lib/api";
import type { StreamChannel } from "../lib/channel";
import type { Command } from "../lib/messages";
import { useResource } from "../lib/useResource";

interface Ban {
  id: string;
  handle: string;
}

interface Action {
  action: string;
  actorHandle: string;
  target: string | null;
  at: string | number;
}

interface Moderation {
  bans: Ban[];
  actions: Action[];
}

/** Bans, the moderation log, and the chat-wide actions (clear, slow mode). */
export function ModerationPanel({ streamId, channel, slowModeSec }: { streamId: string; channel: StreamChannel; slowModeSec: number }) {
  const base = `/api/streams/${encodeURIComponent(streamId)}/moderation`;
  const moderation = useResource(base, async (signal): Promise<Moderation> => {
    const [banList, log] = await Promise.all([
      api<{ bans: Ban[] }>(`${base}/bans`, { signal }),
      api<{ actions: Action[] }>(`${base}/actions`, { signal }),
    ]);
    return { bans: banList.bans, actions: log.actions };
  });
  const { bans, actions } = moderation.value ?? { bans: [], actions: [] };
  const [confirmClear, setConfirmClear] = useState(false);
  const [commandError, setCommandError] = useState<string | null>(null);
  const error = commandError ?? (moderation.error === undefined ? null : errorMessage(moderation.error));

  const run = async (command: Command) => {
    setCommandError(null);
    try {
      await channel.send(command);
    } catch (caught) {
      setCommandError(errorMessage(caught));
      return;
    }
    await moderation.reload();
  };

  return (
    <section className="card moderation-panel" aria-labelledby="moderation-title">
      <h2 id="moderation-title">Moderation</h2>
      <div className="actions">
        <button type="button" onClick={() => void run({ type: "moderation.slow_mode", seconds: slowModeSec > 0 ? 0 : 10 })}>
          {slowModeSec > 0 ? `Slow mode on (${slowModeSec} s): turn off` : "Turn on slow mode (10 s)"}
        </button>
        {confirmClear ? (
          <span className="confirm" role="alertdialog" aria-label="Clear the chat?">
            Clear every message?
            <button
              type="button"
              className="danger"
              onClick={() => {
                setConfirmClear(false);
                void run({ type: "chat.clear" });
              }}
            >
              Clear chat
            </button>
            <button type="button" onClick={() => setConfirmClear(false)}>
              Cancel
            </button>
          </span>
        ) : (
          <button type="button" className="danger" onClick={() => setConfirmClear(true)}>
            Clear chat…
          </button>
        )}
      </div>
      <h3>Banned</h3>
      {bans.length === 0 ? (
        <p className="empty">Nobody is banned.</p>
      ) : (
        <ul className="bans">
          {bans.map((ban) => (
            <li key={ban.id}>
              {ban.handle}{" "}
              <button type="button" onClick={() => void run({ type: "moderation.unban", target: ban.id })}>
                Unban
              </button>
            </li>
          ))}
        </ul>
      )}
      <h3>Log</h3>
      <ol className="log" aria-label="Moderation log">
        {actions.slice(0, 20).map((entry, n) => (
          <li key={n}>
            <strong>{entry.actorHandle}</strong> {entry.action.replace("_", " ")}
            {entry.target ? ` ${entry.target}` : ""}
          </li>
        ))}
      </ol>
      {error && (
        <p className="notice" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
