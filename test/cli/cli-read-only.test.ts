/**
 * `weft runs` and `weft show` only read: they create no .weft folder, no database file and
 * no PostgreSQL schema or table, say plainly when there is no store yet, and read a SQLite
 * file that may not be written.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { freshPostgresSchema, queryPostgres } from '../fixtures/services.ts';
import { root, type WeftOptions, weft } from '../fixtures/weft-cli.ts';

const noStore = { WEFT_STORE: undefined, WEFT_EXECUTOR: undefined };
const job = join(root, 'test/fixtures/job-fails.ts');
// As root, a file's mode binds nobody: read as another user, to whom the file is read-only.
const reader: WeftOptions = process.getuid?.() === 0 ? { uid: 65534 } : {};

describe('weft runs and weft show without a store', () => {
  it('create no .weft folder and no file, and say there is no store yet', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'weft-cli-nostore-'));
    const runs = await weft(['runs'], { cwd, env: noStore });
    assert.equal(runs.code, 0, runs.stderr);
    assert.equal(
      runs.stdout,
      `No runs yet: there is no store at ${join(cwd, '.weft/weft.db')}. Start a run with: weft run <file>\n`,
    );
    const json = await weft(['runs', '--json'], { cwd, env: noStore });
    assert.equal(json.stdout, '[]\n');
    assert.match(json.stderr, /no store at/);
    for (const verb of ['show', 'resume']) {
      const missing = await weft([verb, 'some-run'], { cwd, env: noStore });
      assert.equal(missing.code, 1);
      assert.match(
        missing.stderr,
        new RegExp(
          `^weft: ValidationError: No run 'some-run': there is no store at ${cwd}/\\.weft/weft\\.db yet`,
        ),
      );
    }
    const memory = await weft(['runs', '--store', 'memory:'], { cwd, env: noStore });
    assert.equal(
      memory.stdout,
      'No runs: a memory store holds only the runs of the process that made them.\n',
    );
    const elsewhere = await weft(['runs', '--store', 'sqlite:sub/runs.db'], { cwd, env: noStore });
    assert.equal(elsewhere.code, 0, elsewhere.stderr);
    assert.deepEqual(readdirSync(cwd), []);
  });
});

describe('weft runs and weft show on a read-only SQLite file', () => {
  const folder = mkdtempSync(join(tmpdir(), 'weft-cli-readonly-'));
  after(() => {
    chmodSync(folder, 0o700);
    rmSync(folder, { recursive: true, force: true });
  });

  it('list and show its runs, in a read-only folder and in a writable one, changing nothing', async () => {
    for (const [name, folderMode] of [
      ['closed', 0o555],
      ['open', 0o777],
    ] as const) {
      const dir = join(folder, name);
      mkdirSync(dir);
      const file = join(dir, 'weft.db');
      const store = { env: { ...noStore, WEFT_STORE: `sqlite:${file}` } };
      await weft(['run', job, '--no-progress', '--run-id', `ro-${name}`], store);
      chmodSync(file, 0o444);
      chmodSync(dir, folderMode);
      chmodSync(folder, 0o755);
      const before = readFileSync(file);

      const runs = await weft(['runs'], { ...store, ...reader });
      assert.equal(runs.code, 0, runs.stderr);
      assert.match(runs.stdout, new RegExp(`^ro-${name}\\s+failed\\s+1\\s`, 'm'));
      const shown = await weft(['show', `ro-${name}`], { ...store, ...reader });
      assert.equal(shown.code, 0, shown.stderr);
      assert.match(shown.stdout, new RegExp(`^run ro-${name}: failed \\(1 try\\)$`, 'm'));
      assert.match(shown.stdout, /the second item is bad/);
      const json = await weft(['show', `ro-${name}`, '--json'], { ...store, ...reader });
      const tasks = JSON.parse(json.stdout).tasks as { status: string }[];
      assert.ok(tasks.some((task) => task.status === 'failed'));
      assert.deepEqual(readFileSync(file), before, 'the file is unchanged');
    }
  });
});

describe('weft runs and weft show on PostgreSQL', () => {
  const schema = freshPostgresSchema('cli_readonly');
  const store = { env: { ...noStore, WEFT_STORE: schema.url } };
  const tables = async () =>
    (
      await queryPostgres(
        'SELECT table_name FROM information_schema.tables WHERE table_schema = $1',
        [schema.name],
      )
    ).rowCount;

  it('create neither the schema nor a table where there is no store yet', async () => {
    const runs = await weft(['runs'], store);
    assert.equal(runs.code, 0, runs.stderr);
    assert.match(runs.stdout, /^No runs yet: there is no store at postgres:\/\/.*schema=/);
    const shown = await weft(['show', 'some-run'], store);
    assert.equal(shown.code, 1);
    assert.match(shown.stderr, /No run 'some-run': there is no store at postgres:/);
    const found = await queryPostgres('SELECT 1 FROM pg_namespace WHERE nspname = $1', [
      schema.name,
    ]);
    assert.equal(found.rowCount, 0, 'no schema was created');

    await queryPostgres(`CREATE SCHEMA ${schema.name}`);
    assert.equal((await weft(['runs'], store)).code, 0);
    assert.equal((await weft(['show', 'some-run'], store)).code, 1);
    assert.equal(await tables(), 0, 'no table was created');
  });

  it('read the runs once weft run has made the store', async () => {
    const ran = await weft(['run', job, '--no-progress', '--run-id', 'pg-1'], store);
    assert.equal(ran.code, 1);
    const runs = await weft(['runs'], store);
    assert.match(runs.stdout, /^pg-1\s+failed\s+1\s/m);
    const shown = await weft(['show', 'pg-1'], store);
    assert.match(shown.stdout, /^run pg-1: failed \(1 try\)$/m);
  });
});
