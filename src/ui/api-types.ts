/**
 * The JSON of `weft ui`'s API, shared by the server (src/ui) and the page (web/): what
 * each route answers. Every route is read-only. Times are milliseconds since the epoch,
 * durations milliseconds. Errors answer `{ error: { code, message } }` with a 4xx/5xx
 * status. Lists are paged by an opaque `cursor` (give back `next` to read on).
 */
import type { WireError } from '../core/errors.ts';
import type { RunGraphEdge, RunGraphEvent, RunGraphNode } from '../core/events.ts';
import type {
  Checkpoint,
  RunStatus,
  TaskCounts,
  TaskNameSummary,
  TaskRecord,
} from '../core/store.ts';

// Task counts travel as the store counts them.
export type { TaskCounts } from '../core/store.ts';

/** Where a run stands, as `weft runs` shows it: `stopped` is running without a live owner. */
export type RunStatusView = RunStatus | 'stopped';

/** Every status a run is shown with: what `GET /api/runs?status=` takes. */
export const runStatuses: readonly RunStatusView[] = [
  'running',
  'completed',
  'failed',
  'interrupted',
  'stopped',
];

/** The body of every error answer. */
export interface ApiErrorBody {
  readonly error: { readonly code: string; readonly message: string };
}

/** A run in the runs list: `GET /api/runs?status=&q=&limit=&cursor=`. */
export interface RunSummary {
  readonly id: string;
  /** The job's file name (`weft run`), the name it was given, or the run id. */
  readonly name: string;
  /** What ran, when known from its events: an application, a flow, a dag, maps. */
  readonly kind: 'app' | 'flow' | 'dag' | 'map' | 'batch' | 'compose' | 'compiler' | 'unknown';
  readonly status: RunStatusView;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** Until the last update, or until now while running. */
  readonly durationMs: number;
  readonly attempts: number;
  readonly tasks: TaskCounts;
  /**
   * Tasks finished per twentieth of the run's time so far (a sparkline of its progress);
   * empty for a run without tasks.
   */
  readonly sparkline: readonly number[];
}

/** `GET /api/runs`: newest first. */
export interface RunsPage {
  readonly runs: readonly RunSummary[];
  /** Runs matching the filters. */
  readonly total: number;
  /** Give as `cursor` for the next page; absent on the last. */
  readonly next?: string;
}

/**
 * A task as the API shows it: its record without its output and artifacts, `queuedMs`
 * always given; its error with its cause chain (`cause` nested).
 */
export interface TaskView extends Omit<TaskRecord, 'output' | 'artifacts' | 'queuedMs'> {
  readonly queuedMs: number;
}

/** A map or dag of the run, with its progress. */
export interface FanOutView {
  /** Its key scope: its tasks' keys start with `scope + '/'`. */
  readonly scope: string;
  readonly kind: 'map' | 'dag';
  /** What displays call it: a task, layer or action name. */
  readonly label: string;
  /** The scope of the fan-out it runs inside (in one of whose tasks), if any. */
  readonly parent?: string;
  /** Items or nodes, when known. */
  readonly total?: number;
  /** Its own tasks (not those of fan-outs nested in them). */
  readonly tasks: TaskCounts;
  readonly startedAt: number;
  /** Absent while it runs. */
  readonly endedAt?: number;
  readonly hidden: boolean;
  /** Why it stopped early. */
  readonly error?: WireError;
}

/** A node of a run's graph (an action, a layer, a dag node), as the run sent it. */
export interface GraphNode extends RunGraphNode {
  /** How far it got, when known. */
  readonly status?: 'pending' | 'running' | 'completed' | 'failed';
}

/** An edge: a transition between actions, a dependency between layers or dag nodes. */
export interface GraphEdge extends RunGraphEdge {
  /** True for an app transition that was taken in the run. */
  readonly taken?: boolean;
}

/** The structure of what ran: one per application, flow or dag of the run (its `run:graph`). */
export interface RunGraph extends Pick<RunGraphEvent, 'kind' | 'id' | 'label'> {
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
}

/** One step of an application. */
export interface AppStepView {
  readonly sequenceId: number;
  readonly action: string;
  readonly time: number;
  readonly durationMs: number;
  readonly error?: WireError;
  /** True when a checkpoint holds the state after this step (`GET …/state`). */
  readonly hasState: boolean;
}

/** An application of the run (nested ones name their parent). */
export interface AppView {
  readonly appId: string;
  readonly partitionKey: string;
  readonly parentAppId?: string;
  readonly parentSequenceId?: number;
  readonly status: 'running' | 'completed' | 'failed';
  readonly steps: readonly AppStepView[];
}

/** Sums per task name: the store's summary without its first start and last end. */
export type TaskNameStats = Pick<
  TaskNameSummary,
  'task' | 'completed' | 'failed' | 'totalMs' | 'maxMs'
>;

/** `GET /api/runs/:id`. */
export interface RunDetail {
  readonly run: RunSummary & {
    readonly meta: Readonly<Record<string, unknown>>;
    readonly error?: WireError;
    /** For a run that did not complete: the command that resumes it. */
    readonly resumeCommand?: string;
  };
  readonly fanOuts: readonly FanOutView[];
  readonly graphs: readonly RunGraph[];
  /** The run's applications, the outermost first: at most 1,000. */
  readonly apps: readonly AppView[];
  /** How many applications the run has, when there are more than `apps` lists. */
  readonly appsTotal?: number;
  readonly byTask: readonly TaskNameStats[];
  /** The first failed tasks (at most 50), with their errors. */
  readonly failedTasks: readonly TaskView[];
  /** The slowest tasks (at most 10). */
  readonly slowestTasks: readonly TaskView[];
}

/** `GET /api/runs/:id/tasks?status=&task=&scope=&limit=&cursor=`: in the order recorded. */
export interface TasksPage {
  readonly tasks: readonly TaskView[];
  readonly next?: string;
}

/** A task on the timeline, on the lane (a slot of its executor) it was packed in. */
export interface TimelineTask {
  readonly key: string;
  readonly task: string;
  readonly status: 'completed' | 'failed';
  readonly startedAt: number;
  readonly durationMs: number;
  readonly lane: number;
}

/** `GET /api/runs/:id/timeline?limit=`: where time went, task by task. */
export interface Timeline {
  readonly tasks: readonly TimelineTask[];
  readonly lanes: number;
  /** All tasks of the run. */
  readonly total: number;
  /** True when the run has more than `limit` tasks: the longest ones are shown. */
  readonly sampled: boolean;
  readonly from: number;
  readonly to: number;
}

/** `GET /api/runs/:id/apps/:appId/state?sequenceId=&partitionKey=`: Burr's state at a step. */
export interface StateAtStep
  extends Pick<Checkpoint, 'appId' | 'partitionKey' | 'sequenceId' | 'position' | 'state'> {
  /** Keys added, changed or removed since the step before (all keys at the first). */
  readonly changed: readonly string[];
  readonly removed: readonly string[];
}

/** A laminar layer: `GET /api/runs/:id/layers/:layer`. */
export interface LayerView {
  readonly flow: string;
  readonly layer: string;
  readonly tasks: number;
  /** Tasks whose record says what they wrote (a failed task's shards count as 0). */
  readonly completed: number;
  readonly foreach: boolean;
  readonly attributes: readonly {
    readonly name: string;
    readonly kind: 'value' | 'shard';
    /** Shard lengths, per task, for a sharded attribute. */
    readonly lengths?: readonly number[];
  }[];
}

/** `GET /api/runs/:id/artifacts?prefix=&limit=&cursor=`. */
export interface ArtifactsPage {
  readonly keys: readonly string[];
  readonly next?: string;
}

/**
 * What `GET /api/runs/:id/events` sends, as server-sent events: first the stored events
 * (after `Last-Event-ID` when reconnecting), each as `event: weft` with its sequence as
 * the id; while the run goes, new events as they are stored and, at most twice a second,
 * `event: progress`; once the run is no longer running, `event: end`, and the stream
 * closes.
 */
export interface ProgressMessage {
  readonly status: RunStatusView;
  readonly tasks: TaskCounts;
  readonly fanOuts: readonly Pick<FanOutView, 'scope' | 'total' | 'tasks' | 'endedAt'>[];
}
export interface EndMessage {
  readonly status: RunStatusView;
}
