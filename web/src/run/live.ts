/**
 * Keeps a running run's page live: the run's server-sent events (`GET …/events`) give
 * progress twice a second, which moves the fan-out bars at once, and tell when the
 * structure changed (a fan-out or an application step started or ended), which reads the
 * run's detail again, a moment later so that bursts are read once.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type {
  EndMessage,
  FanOutView,
  ProgressMessage,
  RunDetail,
} from '../../../src/ui/api-types.ts';
import { api } from '../api.ts';

/** Soon after a fan-out or a step starts or ends. */
const structureDelayMs = 400;
/** At most this stale for counts, failures and the timeline while tasks finish. */
const countsDelayMs = 5000;

/** Stored event types after which the detail is read again. */
const structural = /^(map|dag):(start|end)$|^app:(start|step|end)$/;

/** `failed`: the server refused the stream; the page then reads the detail now and then. */
export type StreamState = 'off' | 'connecting' | 'live' | 'reconnecting' | 'ended' | 'failed';

export interface LiveRun {
  readonly progress?: ProgressMessage;
  readonly end?: EndMessage;
  readonly stream: StreamState;
}

/** Calls `refetch` once at the earliest deadline asked for since the last call. */
function useRefetchScheduler(refetch: () => void): (delayMs: number) => void {
  const latest = useRef(refetch);
  latest.current = refetch;
  const pending = useRef<{ timer: number; at: number } | undefined>(undefined);
  useEffect(
    () => () => {
      if (pending.current) window.clearTimeout(pending.current.timer);
    },
    [],
  );
  return (delayMs: number) => {
    const at = Date.now() + delayMs;
    if (pending.current && pending.current.at <= at) return;
    if (pending.current) window.clearTimeout(pending.current.timer);
    const timer = window.setTimeout(() => {
      pending.current = undefined;
      latest.current();
    }, delayMs);
    pending.current = { timer, at };
  };
}

/** True when `progress` shows a fan-out that `detail` does not know, or knows as still going. */
function structureChanged(detail: RunDetail, progress: ProgressMessage): boolean {
  const known = new Map(detail.fanOuts.map((fanOut) => [fanOut.scope, fanOut]));
  return progress.fanOuts.some((fanOut) => {
    const seen = known.get(fanOut.scope);
    return seen === undefined || (seen.endedAt === undefined && fanOut.endedAt !== undefined);
  });
}

/**
 * Follows run `id` while `active` (its detail says it is running), asking `refetch` for a
 * new detail when what the page shows is out of date.
 */
export function useLiveRun(
  id: string,
  active: boolean,
  detail: RunDetail | undefined,
  refetch: () => void,
): LiveRun {
  const [live, setLive] = useState<LiveRun>({ stream: 'off' });
  const schedule = useRefetchScheduler(refetch);
  const current = useRef({ detail, schedule });
  current.current = { detail, schedule };

  useEffect(() => {
    if (!active) {
      setLive((previous) => ({ ...previous, stream: previous.end ? 'ended' : 'off' }));
      return;
    }
    setLive({ stream: 'connecting' });
    const source = new EventSource(api.eventsUrl(id));
    // The stream first replays the stored events; those after the first progress are new.
    let replayed = false;
    source.addEventListener('open', () => {
      setLive((previous) => ({ ...previous, stream: 'live' }));
    });
    source.addEventListener('progress', (event) => {
      const progress = parse<ProgressMessage>(event);
      if (!progress) return;
      replayed = true;
      setLive((previous) => ({ ...previous, progress, stream: 'live' }));
      const { detail, schedule } = current.current;
      if (!detail) return;
      if (structureChanged(detail, progress)) schedule(structureDelayMs);
      else if (
        progress.tasks.completed !== detail.run.tasks.completed ||
        progress.tasks.failed !== detail.run.tasks.failed
      ) {
        schedule(countsDelayMs);
      }
    });
    source.addEventListener('weft', (event) => {
      if (!replayed) return;
      const stored = parse<{ type?: unknown }>(event);
      if (typeof stored?.type === 'string' && structural.test(stored.type)) {
        current.current.schedule(structureDelayMs);
      }
    });
    source.addEventListener('end', (event) => {
      // Closed here, or EventSource would connect again when the server closes the stream.
      source.close();
      const end = parse<EndMessage>(event);
      setLive((previous) => ({ ...previous, stream: 'ended', ...(end ? { end } : {}) }));
      current.current.schedule(0);
    });
    source.addEventListener('error', () => {
      const stream = source.readyState === EventSource.CLOSED ? 'failed' : 'reconnecting';
      setLive((previous) => (previous.stream === 'ended' ? previous : { ...previous, stream }));
    });
    return () => source.close();
  }, [id, active]);
  return live;
}

function parse<T>(event: Event): T | undefined {
  try {
    return JSON.parse((event as MessageEvent<string>).data) as T;
  } catch {
    return undefined;
  }
}

/**
 * The detail's fan-outs with the newest progress laid over them: for each, whichever of
 * the two has counted more tasks.
 */
export function withProgress(
  fanOuts: readonly FanOutView[],
  progress: ProgressMessage | undefined,
): readonly FanOutView[] {
  if (!progress) return fanOuts;
  const latest = new Map(progress.fanOuts.map((fanOut) => [fanOut.scope, fanOut]));
  return fanOuts.map((fanOut) => {
    const live = latest.get(fanOut.scope);
    if (!live) return fanOut;
    const counted = (f: { readonly tasks: FanOutView['tasks'] }) =>
      f.tasks.completed + f.tasks.failed;
    if (counted(live) < counted(fanOut)) return fanOut;
    return {
      ...fanOut,
      tasks: live.tasks,
      total: live.total ?? fanOut.total,
      endedAt: live.endedAt ?? fanOut.endedAt,
    };
  });
}
