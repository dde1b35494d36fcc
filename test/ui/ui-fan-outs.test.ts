/**
 * A fan-out's progress on a run's page when its items leave no records of their own (a
 * flow's dag of layers, each layer the map nested in it): an item counts once the fan-outs
 * nested in it ended, failed when one of them failed; at its end, what its end event counted.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryStore, type WeftEvent } from 'weftjs';
import { fanOutViews } from '../../src/ui/fan-outs.ts';
import { RunEvents } from '../../src/ui/run-events.ts';

const run = 'r';
const dagScope = 'r/flow:F';

function start(scope: string, kind: 'map' | 'dag', total: number): WeftEvent {
  return {
    type: `${kind}:start`,
    time: 1,
    scope,
    task: undefined,
    total,
    label: scope,
  } as WeftEvent;
}

function end(scope: string, kind: 'map' | 'dag', completed: number, failed: number): WeftEvent {
  return {
    type: `${kind}:end`,
    time: 2,
    scope,
    completed,
    failed,
    durationMs: 1,
    error: failed > 0 ? { name: 'Error', message: 'one failed' } : undefined,
  } as WeftEvent;
}

async function dagView(events: WeftEvent[]) {
  const store = new MemoryStore();
  const views = await fanOutViews(store.queries!, run, RunEvents.of(events));
  return views.find((view) => view.scope === dagScope)!;
}

describe('fan-outs whose items leave no records', () => {
  it('count an item once the fan-outs nested in it ended, failed when one failed', async () => {
    const view = await dagView([
      start(dagScope, 'dag', 3),
      start(`${dagScope}/A/task`, 'map', 1),
      end(`${dagScope}/A/task`, 'map', 1, 0),
      start(`${dagScope}/B/task`, 'map', 4),
      end(`${dagScope}/B/task`, 'map', 3, 1),
      start(`${dagScope}/C/task`, 'map', 2),
    ]);
    assert.deepEqual(view.tasks, { completed: 1, failed: 1 });
  });

  it('take what their end event counted once they ended', async () => {
    const view = await dagView([
      start(dagScope, 'dag', 2),
      start(`${dagScope}/A/task`, 'map', 1),
      end(`${dagScope}/A/task`, 'map', 1, 0),
      start(`${dagScope}/B/task`, 'map', 1),
      end(`${dagScope}/B/task`, 'map', 1, 0),
      end(dagScope, 'dag', 2, 0),
    ]);
    assert.deepEqual(view.tasks, { completed: 2, failed: 0 });
  });
});
