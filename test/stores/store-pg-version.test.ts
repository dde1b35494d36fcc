/** weft's schema needs PostgreSQL 11 or newer: an older server is refused before anything is migrated. */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { PostgresStore } from 'weftjs/postgres';
import { leastServerVersion, serverTooOld } from '../../src/stores/sql/postgres-version.ts';
import { freshPostgresSchema, queryPostgres } from '../fixtures/services.ts';

describe('PostgreSQL server version', () => {
  const schema = freshPostgresSchema('version');
  after(() => queryPostgres(`DROP SCHEMA IF EXISTS "${schema.name}" CASCADE`));

  it('opens on this server, which is new enough', async () => {
    const { rows } = await queryPostgres('SHOW server_version_num');
    assert.ok(Number(rows[0].server_version_num) >= leastServerVersion);
    const store = await PostgresStore.open(schema.url);
    await store.close();
  });

  it('refuses versions before 11 naming the version and what to do', () => {
    const error = serverTooOld(100023, 'postgres://db/weft');
    assert.equal(error?.code, 'WEFT_STORE');
    assert.match(error!.message, /is version 10; weft needs PostgreSQL 11 or newer\. Upgrade/);
    assert.equal(serverTooOld(96024, 'x')?.code, 'WEFT_STORE');
    assert.equal(serverTooOld(110000, 'x'), undefined);
    assert.equal(serverTooOld(150020, 'x'), undefined);
  });
});
