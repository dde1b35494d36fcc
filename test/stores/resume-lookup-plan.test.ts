/**
 * A resume looks its keys up a batch at a time; each lookup must search the tasks' primary
 * key once per key asked, never read the whole run. Checked on the databases' own plans:
 * SQLite's, and PostgreSQL's on a table not yet analysed, as it is right after a large
 * first run (the planner then guesses, and read every task of the run for a lookup).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { TaskRecord } from 'weftjs';
import { PostgresStore } from 'weftjs/postgres';
import { SqliteStore } from 'weftjs/sqlite';
import { findCompletedArraySql, findCompletedJsonSql } from '../../src/stores/sql/queries.ts';
import { freshPostgresSchema, postgresUrl } from '../fixtures/services.ts';

const runId = 'lookup-plan';
const count = 20_000;
const records = (from: number, to: number): TaskRecord[] =>
  Array.from({ length: to - from }, (_, i) => ({
    key: `${runId}/map:t/${from + i}`,
    task: 't',
    status: 'completed',
    attempts: 1,
    startedAt: 1,
    durationMs: 1,
    output: from + i,
  }));
/** A lookup's worth of keys from the middle of the run, and one that never ran. */
const asked = [...records(5_000, 5_255).map((record) => record.key), `${runId}/map:t/absent`];

describe('lookups of completed keys search the primary key', () => {
  it('SQLite: one search of the primary key per key asked, in the order asked', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'weft-lookup-plan-'));
    after(() => rmSync(folder, { recursive: true, force: true }));
    const file = join(folder, 'weft.db');
    const store = await SqliteStore.open(file);
    try {
      await store.openRun(runId);
      await store.recordTasks(runId, records(0, count));
      const found = await store.findCompleted(runId, asked);
      assert.equal(found.size, asked.length - 1);
    } finally {
      await store.close();
    }
    const db = new Database(file, { readonly: true });
    try {
      const plan = (
        db
          .prepare(`EXPLAIN QUERY PLAN ${findCompletedJsonSql}`)
          .all(JSON.stringify(asked), runId) as { detail: string }[]
      ).map((step) => step.detail);
      assert.ok(
        plan.some((step) => /^SCAN j\b/.test(step)),
        plan.join(' | '),
      );
      assert.ok(
        plan.some((step) => /^SEARCH t USING INDEX \S+ \(run_id=\? AND key=\?\)/.test(step)),
        plan.join(' | '),
      );
    } finally {
      db.close();
    }
  });

  it('PostgreSQL, not yet analysed: one search of the primary key per key asked', async () => {
    const schema = freshPostgresSchema('lookup_plan');
    const store = await PostgresStore.open(schema.url);
    try {
      await store.openRun(runId);
      for (let from = 0; from < count; from += 5_000) {
        await store.recordTasks(runId, records(from, from + 5_000));
      }
      const found = await store.findCompleted(runId, asked);
      assert.equal(found.size, asked.length - 1);
    } finally {
      await store.close();
    }
    const client = new pg.Client(postgresUrl);
    await client.connect();
    try {
      await client.query(`SET search_path TO ${schema.name}`);
      const { rows } = await client.query(
        `EXPLAIN (ANALYZE, FORMAT JSON) ${findCompletedArraySql}`,
        [runId, asked],
      );
      const scans = tableScans(rows[0]['QUERY PLAN'][0].Plan);
      assert.ok(scans.length > 0, 'the plan reads the tasks table');
      for (const scan of scans) {
        assert.equal(scan.index, 'tasks_pkey', JSON.stringify(scans));
        // Each search finds the one row of its key (or none), never the run's rows.
        assert.ok(scan.rowsPerSearch <= 1, JSON.stringify(scans));
      }
    } finally {
      await client.end();
    }
  });
});

interface PlanNode {
  readonly 'Node Type': string;
  readonly 'Relation Name'?: string;
  readonly 'Index Name'?: string;
  readonly 'Actual Rows'?: number;
  readonly Plans?: readonly PlanNode[];
}

/** The nodes of a plan that read the tasks table or its indexes: the index, rows a search. */
function tableScans(node: PlanNode): { index: string | undefined; rowsPerSearch: number }[] {
  const here =
    node['Relation Name'] === 'tasks' || node['Index Name']?.startsWith('tasks')
      ? [{ index: node['Index Name'], rowsPerSearch: node['Actual Rows'] ?? 0 }]
      : [];
  return [...here, ...(node.Plans ?? []).flatMap(tableScans)];
}
