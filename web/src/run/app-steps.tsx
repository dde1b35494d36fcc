/**
 * The run's Burr applications, nested ones under their parent, each a list of its steps;
 * a step whose state was kept opens the state after it, with the keys it changed marked
 * and the ones it removed struck out.
 */
import { useState } from 'preact/hooks';
import type { AppStepView, AppView } from '../../../src/ui/api-types.ts';
import { api } from '../api.ts';
import { ErrorChain } from '../components/error-chain.tsx';
import { JsonTree } from '../components/json-tree.tsx';
import { ErrorNotice, Loading } from '../components/notice.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { formatCount, formatDuration, formatTime } from '../format.ts';
import { useLoad } from '../hooks.ts';

interface Picked {
  readonly appId: string;
  readonly partitionKey: string;
  readonly sequenceId: number;
}

const appKey = (app: { readonly appId: string; readonly partitionKey: string }) =>
  `${app.partitionKey}\n${app.appId}`;

/** Applications in the order parents first, each followed by its children, with depths. */
function nestApps(apps: readonly AppView[]): { app: AppView; depth: number }[] {
  const ids = new Set(apps.map((app) => app.appId));
  const children = new Map<string, AppView[]>();
  const roots: AppView[] = [];
  for (const app of apps) {
    if (
      app.parentAppId !== undefined &&
      ids.has(app.parentAppId) &&
      app.parentAppId !== app.appId
    ) {
      const list = children.get(app.parentAppId) ?? [];
      list.push(app);
      children.set(app.parentAppId, list);
    } else {
      roots.push(app);
    }
  }
  const out: { app: AppView; depth: number }[] = [];
  const seen = new Set<AppView>();
  const visit = (app: AppView, depth: number) => {
    if (seen.has(app)) return;
    seen.add(app);
    out.push({ app, depth });
    for (const child of children.get(app.appId) ?? []) visit(child, depth + 1);
  };
  for (const app of roots) visit(app, 0);
  return out;
}

export function AppSteps({
  runId,
  apps,
}: {
  readonly runId: string;
  readonly apps: readonly AppView[];
}) {
  const [picked, setPicked] = useState<Picked>();
  const kept = apps.some((app) => app.steps.some((step) => step.hasState));
  return (
    <div class="apps">
      <div class="app-list">
        {nestApps(apps).map(({ app, depth }) => (
          <AppSteplist
            key={appKey(app)}
            app={app}
            depth={depth}
            picked={picked}
            onPick={setPicked}
          />
        ))}
      </div>
      <div class="state-panel">
        {picked ? (
          <StateView runId={runId} picked={picked} />
        ) : kept ? (
          <p class="muted">Pick a step to see the state after it.</p>
        ) : (
          <p class="muted">
            No step kept its state: an application keeps it when it runs with a persister.
          </p>
        )}
      </div>
    </div>
  );
}

/** Steps listed at first; long applications show the rest on request. */
const shownSteps = 200;

function AppSteplist({
  app,
  depth,
  picked,
  onPick,
}: {
  readonly app: AppView;
  readonly depth: number;
  readonly picked: Picked | undefined;
  readonly onPick: (picked: Picked) => void;
}) {
  const [all, setAll] = useState(false);
  const steps = all ? app.steps : app.steps.slice(0, shownSteps);
  const isPicked = (step: AppStepView) =>
    picked?.appId === app.appId &&
    picked.partitionKey === app.partitionKey &&
    picked.sequenceId === step.sequenceId;
  return (
    <section class="app" style={{ marginLeft: `${depth * 1.25}rem` }}>
      <h3 class="app-head">
        <span class="mono">{app.appId}</span>
        {app.partitionKey !== '' && <span class="muted"> · {app.partitionKey}</span>}{' '}
        <StatusBadge status={app.status} />
        {app.parentSequenceId !== undefined && (
          <span class="muted small-text"> from step {app.parentSequenceId} of its parent</span>
        )}
      </h3>
      <ol class="steps">
        {steps.map((step) => (
          <li
            key={step.sequenceId}
            data-testid="app-step"
            data-sequence-id={step.sequenceId}
            class={`step${step.error ? ' step-failed' : ''}${isPicked(step) ? ' picked' : ''}`}
          >
            <button
              type="button"
              class="step-button"
              disabled={!step.hasState}
              aria-pressed={isPicked(step)}
              title={
                step.hasState ? 'Show the state after this step' : 'No state kept for this step'
              }
              onClick={() =>
                onPick({
                  appId: app.appId,
                  partitionKey: app.partitionKey,
                  sequenceId: step.sequenceId,
                })
              }
            >
              <span class="step-seq num">{step.sequenceId}</span>
              <span class="step-action">{step.action}</span>
              <span class="step-time muted num" title={formatTime(step.time)}>
                {formatDuration(step.durationMs)}
              </span>
            </button>
            {step.error && (
              <details class="step-error">
                <summary class="bad">
                  {step.error.name}: {step.error.message}
                </summary>
                <ErrorChain error={step.error} />
              </details>
            )}
          </li>
        ))}
      </ol>
      {steps.length < app.steps.length && (
        <button type="button" class="small" onClick={() => setAll(true)}>
          Show all {formatCount(app.steps.length)} steps
        </button>
      )}
    </section>
  );
}

function StateView({ runId, picked }: { readonly runId: string; readonly picked: Picked }) {
  const loaded = useLoad(
    (signal) => api.state(runId, picked.appId, picked, signal),
    [runId, picked.appId, picked.partitionKey, picked.sequenceId],
  );
  const state = loaded.data;
  const current =
    state !== undefined &&
    state.sequenceId === picked.sequenceId &&
    state.appId === picked.appId &&
    state.partitionKey === picked.partitionKey;
  return (
    <section class="state-view" data-testid="state-view" aria-live="polite">
      {loaded.error !== undefined && !loaded.loading ? (
        <ErrorNotice error={loaded.error} />
      ) : !current ? (
        <Loading what={`the state after step ${picked.sequenceId}`} />
      ) : (
        <>
          <h3>
            State after step {state.sequenceId} <code>{state.position}</code>
          </h3>
          <p class="muted small-text">
            {state.changed.length} changed
            {state.removed.length > 0 && `, ${state.removed.length} removed`}
          </p>
          <JsonTree value={state.state} changed={state.changed} removed={state.removed} />
        </>
      )}
    </section>
  );
}
