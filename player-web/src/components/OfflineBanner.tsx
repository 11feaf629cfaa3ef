import { useOnline } from "../lib/hooks";

export function OfflineBanner() {
  const online = useOnline();
  if (online) return null;
  return (
    <div className="offline-banner" role="status">
      You are offline. The stream and chat will resume when the connection is back.
    </div>
  );
}
