/**
 * What a viewer of runs asks a store (`listRuns` filters and `RunQueries` arguments),
 * checked and put in the one form every store answers from: a ValidationError naming the
 * argument for what is not what the types say, defaults filled in, and the search text
 * folded the way the stores match it. Shared by the memory and SQL stores, so that all
 * three read a question alike.
 */
import { ValidationError } from '../core/errors.ts';
import type {
  ListRunsOptions,
  RunCursor,
  RunStatus,
  TaskPageOptions,
  TaskRecord,
} from '../core/store.ts';
import { hasLoneSurrogate } from './sql/key-codec.ts';
import { checkArray, checkRunId, describe, isRecordStatus } from './validate.ts';

const runStatuses: ReadonlySet<string> = new Set(['running', 'completed', 'failed', 'interrupted']);

/** The runs a listing or a count keeps. */
export interface RunFilter {
  readonly status: RunStatus | undefined;
  readonly search: RunSearch | undefined;
}

/**
 * A search, as the stores match it: the text in the id, and in the meta text (as the
 * serializer wrote it) any of `meta`, all folded by {@link foldAscii}.
 */
export interface RunSearch {
  /** The text sought in ids; undefined when no id can hold it (a NUL, half a character). */
  readonly id: string | undefined;
  /**
   * The text as a string of JSON (and of devalue, which escapes `<`, U+2028 and U+2029
   * too) holds it: how the serializer writes a string of the meta.
   */
  readonly meta: readonly [json: string, devalue: string];
}

/** A listing of runs: its filter, its size and where it starts. */
export interface RunListing extends RunFilter {
  readonly limit: number;
  readonly before: RunCursor | undefined;
}

/** The default size of a page of runs. */
const defaultRunsLimit = 50;

/**
 * The options of listRuns, checked.
 * @throws ValidationError naming the option that is not what ListRunsOptions says
 */
export function checkListRuns(options: unknown): RunListing {
  const filter = checkRunFilter(options, 'listRuns');
  const { limit = defaultRunsLimit, before } = (options ?? {}) as ListRunsOptions;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 0) {
    throw new ValidationError(
      `listRuns limit must be an integer of 0 or more, got ${describe(limit)}.`,
    );
  }
  return { ...filter, limit, before: before === undefined ? undefined : checkCursor(before) };
}

/**
 * The filters of listRuns or countRuns (`status`, `search`), checked; the rest is not
 * looked at.
 */
export function checkRunFilter(options: unknown, method = 'countRuns'): RunFilter {
  if (options === undefined) return { status: undefined, search: undefined };
  if (typeof options !== 'object' || options === null) {
    throw new ValidationError(`Options of ${method} must be an object, got ${describe(options)}.`);
  }
  const { status, search } = options as ListRunsOptions;
  if (status !== undefined && !(typeof status === 'string' && runStatuses.has(status))) {
    throw new ValidationError(
      `${method} status ${describe(status)} is not a run status: use 'running', ` +
        "'completed', 'failed' or 'interrupted', or leave it out.",
    );
  }
  if (search !== undefined && typeof search !== 'string') {
    throw new ValidationError(
      `${method} search must be a string, got ${describe(search)}: leave it out to match every run.`,
    );
  }
  return { status, search: search === undefined || search === '' ? undefined : toSearch(search) };
}

function checkCursor(before: unknown): RunCursor {
  const { createdAt, id } = (before ?? {}) as Partial<RunCursor>;
  if (typeof before !== 'object' || typeof createdAt !== 'number' || !Number.isFinite(createdAt)) {
    throw new ValidationError(
      `listRuns before must be the { createdAt, id } of the last run of the page before, got ${describe(before)}.`,
    );
  }
  checkRunId(id);
  return { createdAt, id };
}

/** Letters A to Z made a to z; every other character kept, so the length is kept too. */
function foldAscii(text: string): string {
  return /[A-Z]/.test(text) ? text.replace(/[A-Z]+/g, (letters) => letters.toLowerCase()) : text;
}

function toSearch(search: string): RunSearch {
  const json = JSON.stringify(search).slice(1, -1);
  const devalue = json.replace(
    /[<\u2028\u2029]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`,
  );
  return {
    id: isStorableText(search) ? foldAscii(search) : undefined,
    meta: [foldAscii(json), foldAscii(devalue)],
  };
}

/** Whether a run, by its id and its meta as stored, is one the filter keeps. */
export function runMatches(
  filter: RunFilter,
  status: RunStatus,
  id: string,
  meta: string,
): boolean {
  if (filter.status !== undefined && status !== filter.status) return false;
  const { search } = filter;
  if (search === undefined) return true;
  if (search.id !== undefined && foldAscii(id).includes(search.id)) return true;
  const text = foldAscii(meta);
  return text.includes(search.meta[0]) || text.includes(search.meta[1]);
}

/** A page of task records asked, checked and with its defaults. */
export interface TaskPageQuery {
  readonly limit: number;
  readonly status: TaskRecord['status'] | undefined;
  readonly task: string | undefined;
  readonly keyPrefix: string | undefined;
  readonly after: number;
  readonly order: 'recorded' | 'slowest';
}

/** The default size of a page of task records, and the largest. */
const defaultTaskPageLimit = 100;
const maxTaskPageLimit = 1000;
/**
 * The largest page of the slowest tasks: it comes in one page (a timeline of a large run
 * shows that many), chosen by the store's sort rather than read in pages.
 */
const maxSlowestPageLimit = 10_000;

/**
 * The options of taskPage, checked; a limit over {@link maxTaskPageLimit} reads that many
 * ({@link maxSlowestPageLimit} in order 'slowest').
 * @throws ValidationError naming the option that is not what TaskPageOptions says
 */
export function checkTaskPage(runId: string, options: unknown): TaskPageQuery {
  checkRunId(runId);
  const what = `taskPage of run '${runId}'`;
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new ValidationError(`Options of ${what} must be an object, got ${describe(options)}.`);
  }
  const {
    limit = defaultTaskPageLimit,
    status,
    task,
    keyPrefix,
    after,
    order = 'recorded',
  } = (options ?? {}) as TaskPageOptions;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 0) {
    throw new ValidationError(
      `The limit of ${what} must be an integer of 0 or more, got ${describe(limit)}.`,
    );
  }
  if (status !== undefined && !isRecordStatus(status)) {
    throw new ValidationError(
      `The status of ${what} must be 'completed' or 'failed', got ${describe(status)}.`,
    );
  }
  if (task !== undefined && typeof task !== 'string') {
    throw new ValidationError(`The task of ${what} must be a task name, got ${describe(task)}.`);
  }
  if (keyPrefix !== undefined && typeof keyPrefix !== 'string') {
    throw new ValidationError(
      `The keyPrefix of ${what} must be a string, got ${describe(keyPrefix)}.`,
    );
  }
  if (order !== 'recorded' && order !== 'slowest') {
    throw new ValidationError(
      `The order of ${what} must be 'recorded' or 'slowest', got ${describe(order)}.`,
    );
  }
  if (after !== undefined) {
    checkPosition(after, `The after of ${what}`);
    if (order === 'slowest') {
      throw new ValidationError(
        `${what} pages by 'after' only in order 'recorded': the slowest tasks come in one page, so leave 'after' out.`,
      );
    }
  }
  return {
    limit: Math.min(limit, order === 'slowest' ? maxSlowestPageLimit : maxTaskPageLimit),
    status,
    task,
    keyPrefix: keyPrefix === '' ? undefined : keyPrefix,
    after: after ?? 0,
    order,
  };
}

/** Throws unless `position` is a position of a page: a whole number of 0 or more. */
function checkPosition(position: unknown, what: string): asserts position is number {
  if (typeof position !== 'number' || !Number.isSafeInteger(position) || position < 0) {
    throw new ValidationError(
      `${what} must be a position from the page before (a whole number of 0 or more), got ${describe(position)}.`,
    );
  }
}

/** The arguments of countTasks, checked. */
export function checkRunIds(runIds: unknown): asserts runIds is readonly string[] {
  checkArray(runIds, 'The run ids of countTasks');
  for (const id of runIds) checkRunId(id);
}

/** The arguments of countTasksByPrefix, checked. */
export function checkPrefixes(runId: string, prefixes: unknown): asserts prefixes is string[] {
  checkRunId(runId);
  checkArray(prefixes, `The prefixes counted in run '${runId}'`);
  for (const prefix of prefixes) {
    if (typeof prefix !== 'string') {
      throw new ValidationError(
        `A prefix counted in run '${runId}' must be a string, got ${describe(prefix)}.`,
      );
    }
  }
}

/** The largest number of buckets of taskEndHistogram. */
const maxBuckets = 10_000;

/** The arguments of taskEndHistogram, checked. */
export function checkHistogram(runId: string, from: unknown, to: unknown, buckets: unknown): void {
  checkRunId(runId);
  const what = `The histogram of run '${runId}'`;
  if (
    typeof from !== 'number' ||
    typeof to !== 'number' ||
    !(Number.isFinite(from) && Number.isFinite(to))
  ) {
    throw new ValidationError(
      `${what} needs from and to in milliseconds since the epoch, got ${describe(from)} and ${describe(to)}.`,
    );
  }
  if (from > to) {
    throw new ValidationError(`${what} starts after it ends (from ${from}, to ${to}): swap them.`);
  }
  if (
    typeof buckets !== 'number' ||
    !Number.isInteger(buckets) ||
    buckets < 1 ||
    buckets > maxBuckets
  ) {
    throw new ValidationError(
      `${what} needs a whole number of buckets from 1 to ${maxBuckets}, got ${describe(buckets)}.`,
    );
  }
}

/** The default number of events of eventsAfter. */
const defaultEventsLimit = 1000;

/** The arguments of eventsAfter, checked; the limit with its default. */
export function checkEventsAfter(runId: string, after: unknown, limit: unknown): number {
  checkRunId(runId);
  checkPosition(after, `The position events of run '${runId}' are read after`);
  if (limit === undefined) return defaultEventsLimit;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 0) {
    throw new ValidationError(
      `The limit of the events read from run '${runId}' must be an integer of 0 or more, got ${describe(limit)}.`,
    );
  }
  return limit;
}

/** Whether a SQL database can hold `text` exactly (so that a filter on it can match). */
export function isStorableText(text: string): boolean {
  return !text.includes('\0') && !hasLoneSurrogate(text);
}
