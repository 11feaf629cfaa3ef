import { useEffect, useState, useSyncExternalStore } from "react";
import { env } from "./env";
import { StreamChannel, type ChannelState } from "./channel";

/** One real-time channel per stream and page, started on mount and stopped on unmount. */
export function useChannel(streamId: string | null): [StreamChannel | null, ChannelState | null] {
  const [channel, setChannel] = useState<StreamChannel | null>(null);
  useEffect(() => {
    if (!streamId) return;
    const created = new StreamChannel(streamId, { pollIntervalMs: env.pollIntervalMs, baseUrl: env.apiBase });
    created.start();
    setChannel(created);
    return () => {
      created.stop();
      setChannel(null);
    };
  }, [streamId]);
  const state = useSyncExternalStore(
    channel?.subscribe ?? noopSubscribe,
    channel?.getState ?? nullState,
  );
  return [channel, state];
}

const noopSubscribe = () => () => undefined;
const nullState = () => null;
