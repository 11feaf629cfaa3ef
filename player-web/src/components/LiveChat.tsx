import { useEffect, useRef, useState, type FormEvent } from "react";
import { ApiError, errorMessage } from "../lib/api";
import type { ChannelState, StreamChannel } from "../lib/channel";
import { formatViewers } from "../lib/format";
import { useCountdown } from "../lib/hooks";
import type { ChatMessage, Command } from "../lib/messages";

type Action = { kind: "delete" | "timeout" | "ban"; message: ChatMessage };

const ACTION_TEXT: Record<Action["kind"], (handle: string) => string> = {
  delete: () => "Delete this message?",
  timeout: (handle) => `Time out ${handle} for 10 minutes?`,
  ban: (handle) => `Ban ${handle} from this chat?`,
};

/** The chat of one stream. Everything users wrote is rendered as text (React escapes it),
 * never as HTML. */
export function LiveChat({ channel, state }: { channel: StreamChannel; state: ChannelState }) {
  const [draft, setDraft] = useState("");
  const [sending, setSending] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const [waitUntil, setWaitUntil] = useState<number | null>(null);
  const [confirming, setConfirming] = useState<Action | null>(null);
  const list = useRef<HTMLOListElement>(null);
  const waitLeft = useCountdown(waitUntil);
  const mutedLeft = useCountdown(state.mutedUntil);
  const canModerate = state.you?.canModerate ?? false;

  useEffect(() => {
    const element = list.current;
    if (element) element.scrollTop = element.scrollHeight;
  }, [state.messages]);

  const guestBlocked = state.you?.role === "guest" && !state.guestsMayChat;
  const disabledReason = state.banned
    ? "You are banned from this chat."
    : mutedLeft > 0
      ? `You are timed out for ${mutedLeft} s.`
      : guestBlocked
        ? "Sign in to chat in this stream."
        : waitLeft > 0
          ? `Slow mode: wait ${waitLeft} s.`
          : null;

  const send = async (event: FormEvent) => {
    event.preventDefault();
    const text = draft.trim();
    if (!text || disabledReason || sending) return;
    setSending(true);
    setNotice(null);
    try {
      await channel.send({ type: "chat.send", text });
      setDraft("");
      if (state.slowModeSec > 0 && !canModerate) setWaitUntil(Date.now() + state.slowModeSec * 1000);
    } catch (error) {
      const problem = error instanceof ApiError ? error : new ApiError(0, String(error));
      setNotice(problem.message);
      if (problem.retryAfterMs) setWaitUntil(Date.now() + problem.retryAfterMs);
    } finally {
      setSending(false);
    }
  };

  const moderate = async (command: Command) => {
    setNotice(null);
    try {
      await channel.send(command);
    } catch (error) {
      setNotice(errorMessage(error));
    }
  };

  const confirm = async () => {
    if (!confirming) return;
    const { kind, message } = confirming;
    setConfirming(null);
    if (kind === "delete") await moderate({ type: "chat.delete", messageId: message.id });
    if (kind === "timeout") await moderate({ type: "moderation.timeout", target: message.author.id, seconds: 600 });
    if (kind === "ban") await moderate({ type: "moderation.ban", target: message.author.id });
  };

  return (
    <section className="live-chat" aria-label="Chat" data-transport={state.mode}>
      <header>
        <h2>Chat</h2>
        <span className="viewers" data-testid="viewer-count">
          {formatViewers(state.viewers)} watching
        </span>
        {state.mode === "polling" && <span className="mode">reconnecting…</span>}
        {state.slowModeSec > 0 && <span className="mode">slow mode {state.slowModeSec} s</span>}
      </header>
      {state.pinned && (
        <div className="pinned" data-testid="pinned">
          <span className="label">Pinned</span> <strong>{state.pinned.author.handle}</strong> {state.pinned.text}
          {canModerate && (
            <button type="button" className="link" onClick={() => moderate({ type: "chat.pin", messageId: null })}>
              Unpin
            </button>
          )}
        </div>
      )}
      <ol ref={list} className="messages" aria-live="polite">
        {state.messages.map((message) => (
          <li key={message.id} className={`message role-${message.author.role}`}>
            <strong className="author">{message.author.handle}</strong> <span className="text">{message.text}</span>
            {canModerate && message.author.id !== state.you?.id && message.author.role !== "creator" && (
              <span className="mod-actions">
                <button type="button" onClick={() => moderate({ type: "chat.pin", messageId: message.id })}>
                  Pin
                </button>
                <button type="button" onClick={() => setConfirming({ kind: "delete", message })}>
                  Delete
                </button>
                <button type="button" onClick={() => setConfirming({ kind: "timeout", message })}>
                  Timeout
                </button>
                <button type="button" onClick={() => setConfirming({ kind: "ban", message })}>
                  Ban
                </button>
              </span>
            )}
          </li>
        ))}
      </ol>
      {confirming && (
        <div className="confirm" role="alertdialog" aria-label="Confirm">
          <p>{ACTION_TEXT[confirming.kind](confirming.message.author.handle)}</p>
          <button type="button" className="danger" onClick={confirm}>
            Yes
          </button>
          <button type="button" onClick={() => setConfirming(null)}>
            No
          </button>
        </div>
      )}
      {notice && (
        <p className="notice" role="alert">
          {notice}
        </p>
      )}
      <form onSubmit={send}>
        <input
          aria-label="Message"
          value={draft}
          maxLength={state.maxMessageLength}
          placeholder={disabledReason ?? (state.you ? `Chat as ${state.you.handle}` : "Say something")}
          disabled={disabledReason !== null}
          onChange={(event) => setDraft(event.target.value)}
        />
        <button type="submit" disabled={disabledReason !== null || sending || !draft.trim()}>
          {waitLeft > 0 ? `${waitLeft}s` : "Send"}
        </button>
      </form>
    </section>
  );
}
