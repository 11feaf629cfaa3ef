import { OfflineBanner } from "./components/OfflineBanner";
import { ControlRoom } from "./pages/ControlRoom";
import { DiscoveryPage } from "./pages/DiscoveryPage";
import { ReplayPage } from "./pages/ReplayPage";
import { WatchPage } from "./pages/WatchPage";
import { navigate, useRoute } from "./lib/router";

export function App() {
  const route = useRoute();
  return (
    <>
      <OfflineBanner />
      <nav className="top-nav">
        <a
          href="/"
          className="brand"
          onClick={(event) => {
            event.preventDefault();
            navigate("/");
          }}
        >
          mediad
        </a>
        <a
          href="/studio"
          onClick={(event) => {
            event.preventDefault();
            navigate("/studio");
          }}
        >
          Control room
        </a>
      </nav>
      {route.page === "discover" && <DiscoveryPage />}
      {route.page === "watch" && <WatchPage key={route.streamId} streamId={route.streamId} />}
      {route.page === "replay" && <ReplayPage key={route.recordingId} recordingId={route.recordingId} />}
      {route.page === "studio" && <ControlRoom streamId={route.streamId} />}
      {route.page === "notFound" && (
        <main>
          <p>Page not found.</p>
        </main>
      )}
    </>
  );
}
