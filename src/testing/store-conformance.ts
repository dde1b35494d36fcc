/**
 * The store conformance suite: one set of cases that every run store passes (memory,
 * SQLite, PostgreSQL, …), through the {@link Store} contract only. A new store is proven
 * by calling {@link describeStoreConformance} from its test file.
 *
 * A SQL store may be shared by every case, by other test files and by earlier test runs,
 * so each case works on fresh run and application ids of its own (random UUIDs) and
 * never assumes the store is empty.
 */
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import type { Store } from '../core/store.ts';
import { describeArtifactCases } from './store-conformance-artifacts.ts';
import { describeCheckpointCases } from './store-conformance-checkpoints.ts';
import { describeCloseCases, describePersistenceCases } from './store-conformance-close.ts';
import { describeEventCases } from './store-conformance-events.ts';
import { describeKeyCases } from './store-conformance-keys.ts';
import { describeLeaseCases } from './store-conformance-lease.ts';
import { describeQueryCases } from './store-conformance-queries.ts';
import { describeTaskRecordCases, describeValidationCases } from './store-conformance-records.ts';
import { describeResumeReadCases } from './store-conformance-resume.ts';
import { describeRunListCases } from './store-conformance-run-list.ts';
import { describeIsolationCases, describeRunCases } from './store-conformance-runs.ts';

/** Options of {@link describeStoreConformance}. */
export interface StoreConformanceOptions {
  /**
   * Whether a store made by `makeStore` reads back what an earlier, closed one wrote (a
   * SQL store on the same database), which adds a case that writes a run with one store,
   * closes it and reads the run back with a new one.
   * @default false
   */
  readonly persistent?: boolean;
  /**
   * How many records the large batch case writes in one `recordTasks` call.
   * @default 10_000
   */
  readonly largeBatch?: number;
  /**
   * Time limit of each case, in milliseconds, so that a hang fails the case rather than
   * the whole run.
   * @default 30_000
   */
  readonly timeoutMs?: number;
  /**
   * Whether the store answers a viewer's queries ({@link Store.queries}), which adds their
   * cases; `false` leaves them out for a store without them (its listRuns filters are
   * checked all the same).
   * @default true
   */
  readonly queries?: boolean;
}

/**
 * Declares the store conformance suite with `node:test`: one `describe` block named after
 * the store, which makes one store with `makeStore` before its cases and closes it after
 * them (the `close()` and persistence cases make and close their own).
 *
 * The cases cover runs (open, reopen, finish, get, list newest first with a limit); the
 * lease (one owner at a time, expiry, take-over, renewal, races); the reads of a bounded
 * resume (findCompleted, countCompleted, streamTasks); exact keys (lone surrogates, NUL,
 * very long keys, keys equal after normalization, names of Object.prototype, keys that
 * look like a store's escapes, in task records, artifacts and checkpoints); task
 * records (batch writes, replacement of a key in its first place, field and value round
 * trips through every type the serializer supports, queue waits, snapshots, a large batch, concurrent
 * writes, and an output that cannot be stored, which rejects with `WEFT_SERIALIZATION`
 * naming its key and writes nothing of its batch); checkpoints (latest or by sequence id,
 * partitions); artifacts (binary round trips from zero bytes to 1 MB, replacement, the
 * keys listed, by prefix and a page at a time);
 * events (append order, round trip with errors); listing runs for a viewer (filters by
 * status and a literal search, pages by cursor, ties in time); the viewer's queries
 * (`Store.queries`: counts by run and key prefix, sums per task name, pages of records,
 * the slowest, a histogram of ends, events after a position, unknown runs); isolation
 * between runs; input validation; and `close()`.
 *
 * @param name Shown in the test report, e.g. 'sqlite'.
 * @param makeStore Makes a new store object on each call (several may share one
 *   database); called once for the suite, once for the `close()` case, and twice more for
 *   the persistence case.
 * @param options See {@link StoreConformanceOptions}.
 * @example
 * import { describeStoreConformance } from 'weftjs/testing';
 * describeStoreConformance('sqlite', () => openSqliteStore(file), { persistent: true });
 */
export function describeStoreConformance(
  name: string,
  makeStore: () => Promise<Store> | Store,
  options: StoreConformanceOptions = {},
): void {
  const caseOptions = { timeout: options.timeoutMs ?? 30_000 } as const;
  const largeBatch = options.largeBatch ?? 10_000;

  describe(`store conformance: ${name}`, () => {
    let made: Store | undefined;
    const store = (): Store => {
      assert.ok(made, 'the store is made in before()');
      return made;
    };

    before(async () => {
      made = await makeStore();
    });
    after(async () => {
      await made?.close();
    });

    describeRunCases(store, caseOptions);
    describeRunListCases(store, caseOptions);
    if (options.queries ?? true) describeQueryCases(store, caseOptions);
    describeTaskRecordCases(store, caseOptions, largeBatch);
    describeLeaseCases(store, makeStore, { ...caseOptions, shared: options.persistent ?? false });
    describeResumeReadCases(store, caseOptions);
    describeKeyCases(store, caseOptions);
    describeCheckpointCases(store, caseOptions);
    describeArtifactCases(store, caseOptions);
    describeEventCases(store, caseOptions);
    describeIsolationCases(store, caseOptions);
    describeValidationCases(store, caseOptions);
    describeCloseCases(makeStore, caseOptions);
    if (options.persistent) describePersistenceCases(makeStore, caseOptions);
  });
}
