import { useState } from "react";
import { api, errorMessage } from "../lib/api";
import type { KeyKind, KeysView, RevealedKey } from "../lib/types";
import { useResource } from "../lib/useResource";

function Copy({ value, label }: { value: string; label: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      aria-label={`Copy ${label}`}
      onClick={() => {
        void navigator.clipboard?.writeText(value).then(() => {
          setCopied(true);
          setTimeout(() => setCopied(false), 1500);
        });
      }}
    >
      {copied ? "Copied" : "Copy"}
    </button>
  );
}

/** How each kind of SRT caller takes the revealed key: OBS and ffmpeg the whole URL,
 * srt-live-transmit the same URL quoted for the shell, other encoders the stream id alone. */
function SrtSettings({ srtKey }: { srtKey: RevealedKey }) {
  const command = `srt-live-transmit udp://:5000 '${srtKey.srtUrl}'`;
  return (
    <dl className="srt-settings" data-testid={`srt-${srtKey.kind}`}>
      <dt>SRT URL</dt>
      <dd>
        <code>{srtKey.srtUrl}</code> <Copy value={srtKey.srtUrl} label={`${srtKey.kind} SRT URL`} />
        <small>
          OBS: Settings › Stream › Service: Custom…, Server: this URL, Stream Key: leave empty. ffmpeg: the output URL
          (with <code>-f mpegts</code>).
        </small>
      </dd>
      <dt>srt-live-transmit</dt>
      <dd>
        <code>{command}</code> <Copy value={command} label={`${srtKey.kind} srt-live-transmit command`} />
        <small>Relays MPEG-TS that arrives on UDP port 5000; the URL in quotes, as it is.</small>
      </dd>
      <dt>SRT stream ID</dt>
      <dd>
        <code>{srtKey.srtStreamId}</code> <Copy value={srtKey.srtStreamId} label={`${srtKey.kind} SRT stream ID`} />
        <small>For encoders with a Stream ID field of their own (vMix, Larix): the server above, this stream ID{srtKey.srtPassphrase ? ", the passphrase and key length 16 (AES-128)" : ""}.</small>
      </dd>
    </dl>
  );
}

/** OBS 30+ publishes over WebRTC with the WHIP URL and the key as its Bearer Token. */
function WhipSettings({ whipKey }: { whipKey: RevealedKey & { whipUrl: string; whipToken: string } }) {
  return (
    <dl className="whip-settings" data-testid={`whip-${whipKey.kind}`}>
      <dt>WHIP URL</dt>
      <dd>
        <code>{whipKey.whipUrl}</code> <Copy value={whipKey.whipUrl} label={`${whipKey.kind} WHIP URL`} />
      </dd>
      <dt>WHIP bearer token</dt>
      <dd>
        <code>{whipKey.whipToken}</code> <Copy value={whipKey.whipToken} label={`${whipKey.kind} WHIP bearer token`} />
        <small>OBS 30 or later: Settings › Stream › Service: WHIP, Server: the WHIP URL, Bearer Token: this token (the stream key).</small>
      </dd>
    </dl>
  );
}

const hasWhip = (key: RevealedKey): key is RevealedKey & { whipUrl: string; whipToken: string } =>
  Boolean(key.whipUrl && key.whipToken);

/** The stream keys: masked until shown, copyable, rotatable after a confirmation. */
export function StreamKeyCard({ streamId }: { streamId: string }) {
  const base = `/api/streams/${encodeURIComponent(streamId)}/keys`;
  const keys = useResource(base, (signal) => api<KeysView>(base, { signal }));
  const view = keys.value ?? null;
  const [shown, setShown] = useState<Partial<Record<KeyKind, RevealedKey>>>({});
  const [confirming, setConfirming] = useState<KeyKind | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const error = actionError ?? (keys.error === undefined ? null : errorMessage(keys.error));

  const reveal = async (kind: KeyKind) => {
    setActionError(null);
    try {
      const key = await api<RevealedKey>(`${base}/${kind}/reveal`, { method: "POST" });
      setShown((current) => ({ ...current, [kind]: key }));
    } catch (caught) {
      setActionError(errorMessage(caught));
    }
  };

  const rotate = async (kind: KeyKind) => {
    setConfirming(null);
    setActionError(null);
    try {
      const key = await api<RevealedKey>(`${base}/${kind}/rotate`, { method: "POST" });
      setShown((current) => ({ ...current, [kind]: key }));
      setMessage(
        `The ${kind} key was replaced.` + (key.publisherDisconnected ? " The encoder using the old key was disconnected." : ""),
      );
    } catch (caught) {
      setActionError(errorMessage(caught));
      return;
    }
    await keys.reload();
  };

  if (!view) return <section className="card" aria-busy="true" />;
  const anyShown = shown.primary ?? shown.backup;
  return (
    <section className="card key-card" aria-labelledby="keys-title">
      <h2 id="keys-title">Stream keys</h2>
      <dl>
        <dt>RTMP server</dt>
        <dd>
          <code>{view.rtmpServer}</code> <Copy value={view.rtmpServer} label="RTMP server" />
        </dd>
        {view.rtmpsServer && (
          <>
            <dt>RTMPS server</dt>
            <dd>
              <code data-testid="rtmps-server">{view.rtmpsServer}</code>{" "}
              <Copy value={view.rtmpsServer} label="RTMPS server" />
              <small>RTMP over TLS, with the same stream key: OBS takes either server.</small>
            </dd>
          </>
        )}
        <dt>SRT server</dt>
        <dd>
          <code>{view.srtServer}</code> <Copy value={view.srtServer} label="SRT server" />
        </dd>
        {view.whipUrl && (
          <>
            <dt>WHIP URL</dt>
            <dd>
              <code data-testid="whip-url">{view.whipUrl}</code> <Copy value={view.whipUrl} label="WHIP URL" />
              <small>OBS 30 or later: Service WHIP, Server this URL, Bearer Token the stream key (Show it below).</small>
            </dd>
          </>
        )}
        <dt>SRT passphrase</dt>
        <dd>
          <code data-testid="srt-passphrase">{anyShown ? anyShown.srtPassphrase : view.srtPassphrase}</code>
          {anyShown && <Copy value={anyShown.srtPassphrase} label="SRT passphrase" />}
        </dd>
      </dl>
      {view.keys.map(({ kind, masked, srtStreamId }) => {
        const key = shown[kind];
        return (
          <div className="key-row" key={kind} data-testid={`key-${kind}`}>
            <span className="kind">{kind === "primary" ? "Primary" : "Backup"}</span>
            <code className="secret">{key ? key.key : masked}</code>
            {key ? (
              <>
                <button type="button" onClick={() => setShown((current) => ({ ...current, [kind]: undefined }))}>
                  Hide
                </button>
                <Copy value={key.key} label={`${kind} key`} />
              </>
            ) : (
              <button type="button" onClick={() => void reveal(kind)}>
                Show
              </button>
            )}
            {confirming === kind ? (
              <span className="confirm" role="alertdialog" aria-label={`Rotate the ${kind} key?`}>
                Rotate? The old key stops working at once.
                <button type="button" className="danger" onClick={() => void rotate(kind)}>
                  Rotate
                </button>
                <button type="button" onClick={() => setConfirming(null)}>
                  Cancel
                </button>
              </span>
            ) : (
              <button type="button" onClick={() => setConfirming(kind)}>
                Rotate…
              </button>
            )}
            {key ? (
              <>
                <SrtSettings srtKey={key} />
                {hasWhip(key) && <WhipSettings whipKey={key} />}
              </>
            ) : (
              <p className="urls">
                SRT stream ID: <code>{srtStreamId}</code>
              </p>
            )}
          </div>
        );
      })}
      {message && <p className="notice">{message}</p>}
      {error && (
        <p className="notice" role="alert">
          {error}
        </p>
      )}
      <p className="security-note">
        Anyone with a key can stream as you. Keep keys out of screenshots and shared configs, use the backup key for a
        second encoder, and rotate a key the moment it may have leaked: reveals and rotations are logged.
      </p>
    </section>
  );
}
