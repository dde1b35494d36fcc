/** The page's frame: a top bar and the view of the current route. */

import { Link, useRoute } from './router.tsx';
import { RunPage } from './run/run-page.tsx';
import { RunsList } from './runs/runs-list.tsx';

export function App() {
  const route = useRoute();
  return (
    <>
      <header class="topbar">
        <Link href="/" class="brand">
          weft
        </Link>
        <span class="muted">runs</span>
      </header>
      {route.name === 'runs' && <RunsList search={route.search} />}
      {/* Keyed by id: another run's page starts afresh, with its own stream. */}
      {route.name === 'run' && <RunPage key={route.id} id={route.id} />}
      {route.name === 'missing' && (
        <main class="page">
          <div class="notice notice-error" role="alert">
            <h1>Nothing here</h1>
            <p>
              <code>{route.path}</code> is not a page of weft ui. <Link href="/">See the runs</Link>
              .
            </p>
          </div>
        </main>
      )}
    </>
  );
}
