/**
 * Store conformance, listing runs for a viewer: listRuns filtered by status and by a
 * search taken literally (`%`, `_`, `\`, quotes, NUL, lone surrogates, `__proto__`),
 * paged by cursor with ties in creation time broken by the order of creation, and
 * countRuns counting what listRuns lists. A SQL store is shared by other cases, so every
 * search names a token of the case's own.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it, mock } from 'node:test';
import { isWeftError } from '../core/errors.ts';
import type { ListRunsOptions, RunRecord, Store } from '../core/store.ts';
import { type CaseOptions, freshId, rejectionOf } from './store-conformance-support.ts';

/** The ids listRuns gives for `options`, and checks that countRuns counts as many. */
async function listed(store: Store, options: ListRunsOptions): Promise<string[]> {
  const runs = await store.listRuns({ limit: 1000, ...options });
  if (store.queries) {
    assert.equal(
      await store.queries.countRuns(options),
      runs.length,
      `countRuns(${JSON.stringify(options)})`,
    );
  }
  return runs.map((run) => run.id);
}

/** Every page of `limit` runs matching `options`, read on by cursor. */
async function allPages(store: Store, options: ListRunsOptions, limit: number) {
  const pages: string[][] = [];
  let before: RunRecord | undefined;
  for (;;) {
    const page = await store.listRuns({
      ...options,
      limit,
      ...(before ? { before: { createdAt: before.createdAt, id: before.id } } : {}),
    });
    if (page.length === 0) return pages;
    pages.push(page.map((run) => run.id));
    assert.ok(pages.length < 100, 'the pages end');
    before = page.at(-1);
  }
}

/**
 * Where a case sets the clock to open runs at times of its choice: in the past, so that
 * they never pass for newer than the runs later cases open.
 */
function aMinuteAgo(): number {
  return Date.now() - 60_000;
}

/** Declares the cases on filtering, searching and paging runs. */
export function describeRunListCases(store: () => Store, caseOptions: CaseOptions): void {
  describe('listing runs for a viewer', () => {
    it('listRuns keeps the runs of a status; countRuns counts them', caseOptions, async () => {
      const tag = freshId('status');
      for (const [suffix, status] of [
        ['done', 'completed'],
        ['broke', 'failed'],
        ['stopped', 'interrupted'],
        ['going', undefined],
        ['broke-too', 'failed'],
      ] as const) {
        await store().openRun(`${tag}-${suffix}`);
        if (status) await store().finishRun(`${tag}-${suffix}`, status);
      }
      assert.deepEqual(await listed(store(), { search: tag, status: 'failed' }), [
        `${tag}-broke-too`,
        `${tag}-broke`,
      ]);
      assert.deepEqual(await listed(store(), { search: tag, status: 'running' }), [`${tag}-going`]);
      assert.deepEqual(await listed(store(), { search: tag, status: 'completed' }), [
        `${tag}-done`,
      ]);
      assert.equal((await listed(store(), { search: tag })).length, 5);
      // A run reopened is running again.
      await store().openRun(`${tag}-broke`);
      assert.deepEqual(await listed(store(), { search: tag, status: 'failed' }), [
        `${tag}-broke-too`,
      ]);
      const all = await store().listRuns({ status: 'interrupted', limit: 1000 });
      assert.ok(all.every((run) => run.status === 'interrupted'));
      assert.ok(all.some((run) => run.id === `${tag}-stopped`));
    });

    it(
      'pages read on by cursor join up: newest first, ties in time by the order of creation',
      caseOptions,
      async () => {
        const tag = freshId('pages');
        // Ids against the order of creation, so that no store passes by ordering ids.
        const created: string[] = [];
        const clock = mock.timers;
        clock.enable({ apis: ['Date'], now: aMinuteAgo() });
        try {
          for (const [group, size] of [3, 1, 4].entries()) {
            for (let i = 0; i < size; i++) {
              const id = `${tag}-${String.fromCharCode(122 - created.length)}-${group}`;
              await store().openRun(id);
              created.push(id);
            }
            clock.tick(5);
          }
        } finally {
          clock.reset();
        }
        const runs = new Map<string, RunRecord>();
        for (const id of created) runs.set(id, (await store().getRun(id))!);
        // Newest first, then the later created first: what every page must follow.
        const expected = [...created].sort(
          (a, b) =>
            runs.get(b)!.createdAt - runs.get(a)!.createdAt ||
            created.indexOf(b) - created.indexOf(a),
        );
        assert.deepEqual(await listed(store(), { search: tag }), expected);
        for (const limit of [1, 2, 3, 5]) {
          const pages = await allPages(store(), { search: tag }, limit);
          assert.deepEqual(pages.flat(), expected, `pages of ${limit}`);
          assert.ok(pages.every((page) => page.length <= limit));
        }
        // From the middle of a tie: only the runs after it.
        const middle = expected[5]!;
        const rest = await store().listRuns({
          search: tag,
          before: { createdAt: runs.get(middle)!.createdAt, id: middle },
        });
        assert.deepEqual(
          rest.map((run) => run.id),
          expected.slice(6),
        );
      },
    );

    it(
      'a cursor naming no run reads on from the runs created before its time',
      caseOptions,
      async () => {
        const tag = freshId('cursor');
        const clock = mock.timers;
        clock.enable({ apis: ['Date'], now: aMinuteAgo() });
        let second: RunRecord;
        try {
          await store().openRun(`${tag}-first`);
          clock.tick(5);
          second = await store().openRun(`${tag}-second`);
          await store().openRun(`${tag}-third`);
        } finally {
          clock.reset();
        }
        const before = { createdAt: second.createdAt, id: freshId('never-opened') };
        const older = await store().listRuns({ search: tag, before });
        assert.deepEqual(
          older.map((run) => run.id),
          [`${tag}-first`],
        );
      },
    );

    it(
      'search is literal: %, _ and \\ are not patterns, quotes are text',
      caseOptions,
      async () => {
        const tag = freshId('search');
        const ids = {
          percent: `${tag}-100%`,
          hundreds: `${tag}-1000`,
          underscore: `${tag}-a_b`,
          anyChar: `${tag}-axb`,
          backslash: `${tag}-back\\slash`,
          slash: `${tag}-back/slash`,
          quotes: `${tag}-it's "q"`,
          proto: `${tag}-__proto__`,
        };
        for (const id of Object.values(ids)) await store().openRun(id);
        assert.deepEqual(await listed(store(), { search: `${tag}-100%` }), [ids.percent]);
        assert.deepEqual(await listed(store(), { search: `${tag}-1%` }), []);
        assert.deepEqual(await listed(store(), { search: `${tag}-a_b` }), [ids.underscore]);
        assert.deepEqual(await listed(store(), { search: `${tag}-1_0` }), []);
        assert.deepEqual(await listed(store(), { search: `${tag}-back\\` }), [ids.backslash]);
        assert.deepEqual(await listed(store(), { search: `${tag}-it's "q"` }), [ids.quotes]);
        assert.deepEqual(await listed(store(), { search: `${tag}-it''s` }), []);
        assert.deepEqual(await listed(store(), { search: `${tag}-__proto__` }), [ids.proto]);
        assert.deepEqual(await listed(store(), { search: `${tag}-%` }), []);
        // Letters A to Z match either case.
        assert.deepEqual(await listed(store(), { search: `${tag.toUpperCase()}-A_B` }), [
          ids.underscore,
        ]);
        assert.equal((await listed(store(), { search: tag })).length, Object.keys(ids).length);
      },
    );

    it(
      'search finds text in the strings of a run’s meta, escapes and all',
      caseOptions,
      async () => {
        const token = `tok${randomUUID()}`;
        const meta = {
          path: `${token} C:\\jobs\\etl.ts`,
          said: `${token} say "hi" <b> & 'bye'`,
          nul: `${token} a\u0000b`,
          lone: `${token} x\uD800y`,
          proto: `${token}__proto__`,
          accents: `${token} Ünïcode`,
        };
        const plain = freshId('meta-plain');
        // A Date makes the serializer write devalue, which escapes `<` where JSON does not.
        const devalue = freshId('meta-devalue');
        await store().openRun(plain, meta);
        await store().openRun(devalue, { ...meta, at: new Date(0) });
        const both = [devalue, plain];
        assert.deepEqual(await listed(store(), { search: `${token} c:\\JOBS\\etl` }), both);
        assert.deepEqual(await listed(store(), { search: `${token} say "hi" <b> & 'bye'` }), both);
        assert.deepEqual(await listed(store(), { search: `${token} a\u0000b` }), both);
        assert.deepEqual(await listed(store(), { search: `${token} x\uD800y` }), both);
        assert.deepEqual(await listed(store(), { search: `${token}__proto__` }), both);
        assert.deepEqual(await listed(store(), { search: `${token} Ünïcode` }), both);
        assert.deepEqual(await listed(store(), { search: `${token} a\u0000c` }), []);
        assert.deepEqual(await listed(store(), { search: `${token} x\uD801y` }), []);
        assert.deepEqual(await listed(store(), { search: `${token} nothing` }), []);
        // Text no id can hold finds no id, and throws nothing.
        assert.deepEqual(await listed(store(), { search: `${plain}\u0000` }), []);
        assert.deepEqual(await listed(store(), { search: `${plain}\uD800` }), []);
        for (const search of ['\u0000', '\uD800', '\uDFFF tail']) {
          assert.ok(Array.isArray(await listed(store(), { search })));
        }
      },
    );

    it('an empty search keeps every run', caseOptions, async () => {
      await store().openRun(freshId('empty-search'));
      const ids = (runs: RunRecord[]) => runs.map((run) => run.id);
      assert.deepEqual(
        ids(await store().listRuns({ search: '', limit: 20 })),
        ids(await store().listRuns({ limit: 20 })),
      );
      if (store().queries) {
        assert.equal(
          await store().queries!.countRuns({ search: '' }),
          await store().queries!.countRuns(),
        );
      }
    });

    it(
      'filters that are not what ListRunsOptions says are a ValidationError',
      caseOptions,
      async () => {
        const bad: unknown[] = [
          { status: 'done' },
          { status: 1 },
          { search: 42 },
          { before: { createdAt: 'yesterday', id: 'x' } },
          { before: { createdAt: 1, id: '' } },
          { before: 'x' },
          { limit: -1 },
          { limit: 1.5 },
        ];
        for (const options of bad) {
          const error = await rejectionOf(store().listRuns(options as ListRunsOptions));
          assert.ok(isWeftError(error, 'WEFT_VALIDATION'), `${JSON.stringify(options)}: ${error}`);
        }
        if (store().queries) {
          const error = await rejectionOf(store().queries!.countRuns({ status: 'x' as 'failed' }));
          assert.ok(isWeftError(error, 'WEFT_VALIDATION'), String(error));
        }
      },
    );
  });
}
