/**
 * `weft resume` and `weft run --run-id` on a run that another process owns, judged by the
 * run's lease: two racing processes, one runs and the other is refused at once (SQLite and
 * PostgreSQL); a run SIGKILLed on this machine resumes at once; one held from another
 * machine, or by a live pid of this machine that is not weft's, once its lease expired;
 * `--force` takes a live run over (asking on a terminal), and the old owner stops without
 * touching the run.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { openStore, type Store } from 'weftjs';
import type { Finished } from '../fixtures/child-jobs.ts';
import { freshPostgresSchema } from '../fixtures/services.ts';
import { spawnOnTerminal } from '../fixtures/terminal.ts';
import { root, type Started, startWeft, type WeftOptions, weft } from '../fixtures/weft-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'weft-cli-lease-'));
const sqlite = `sqlite:${join(dir, 'weft.db')}`;
const job = join(root, 'test/fixtures/job-lease.ts');

/** The environment of a command on `store`, logging tasks to `log`, held at `gate` if given. */
function inStore(store: string, log: string, gate?: string): WeftOptions {
  return {
    env: {
      WEFT_STORE: store,
      WEFT_EXECUTOR: undefined,
      WEFT_TEST_LOG: log,
      WEFT_TEST_GATE: gate,
      WEFT_TEST_FAIL: undefined,
    },
  };
}

/** A failed run of the lease job, to resume. */
async function failedRun(runId: string, options: WeftOptions): Promise<void> {
  const failed = await weft(['run', job, '--no-progress', '--run-id', runId], {
    env: { ...options.env, WEFT_TEST_FAIL: '1' },
  });
  assert.equal(failed.code, 1, failed.stderr);
  assert.match(failed.stderr, /failing on purpose/);
}

/** The status `weft runs` shows for `runId`. */
async function statusOf(runId: string, options: WeftOptions): Promise<string> {
  const listed = await weft(['runs', '--json'], options);
  assert.equal(listed.code, 0, listed.stderr);
  const runs = JSON.parse(listed.stdout) as { id: string; status: string }[];
  return runs.find((run) => run.id === runId)?.status ?? 'absent';
}

/** How many times each task ran, by item. */
function executions(log: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of readFileSync(log, 'utf8').trim().split('\n')) {
    counts.set(item, (counts.get(item) ?? 0) + 1);
  }
  return counts;
}

function assertEachRanOnce(log: string): void {
  const counts = executions(log);
  assert.equal(counts.size, 100, 'every task ran');
  assert.deepEqual(
    [...counts].filter(([, n]) => n > 1),
    [],
    'no task ran twice',
  );
}

/** Waits until the store's clock has passed the run's lease, which the test set to end now. */
async function pastLease(store: Store, runId: string): Promise<void> {
  const until = (await store.getRun(runId))?.leaseExpiresAt ?? 0;
  await sleep(Math.max(0, until - Date.now()) + 5);
}

/** Settles with the racer that ended first, or 'both started' when both own the run. */
function firstOf(racers: readonly Started[]) {
  return Promise.race([
    ...racers.map((racer, i) => racer.finished.then((end) => ({ i, end }))),
    Promise.all(racers.map((racer) => racer.printed('started'))).then(
      () => 'both started' as const,
      () => new Promise<never>(() => {}),
    ),
  ]);
}

async function race(store: string, label: string, t: TestContext): Promise<void> {
  const runId = `${label}-race`;
  const log = join(dir, `${label}-race.log`);
  const gate = join(dir, `${label}-race.gate`);
  const options = inStore(store, log, gate);
  await failedRun(runId, options);
  const spawnedAt = performance.now();
  const racers = [0, 1].map(() => startWeft(['resume', runId, '--no-progress'], options));
  const first = await firstOf(racers);
  const refusedMs = performance.now() - spawnedAt;
  assert.notEqual(first, 'both started', 'both processes run the run at once');
  const { i, end } = first as { i: number; end: Finished };
  const winner = racers[1 - i]!;
  assert.equal(end.code, 1, end.stderr);
  assert.equal(end.stdout, '');
  assert.match(
    end.stderr,
    new RegExp(
      `^weft: RunBusyError: Run '${runId}' is running in process ${winner.child.pid} on this ` +
        'machine \\(.*\\), whose lease on it lasts until \\S+ unless renewed\\. Two processes ' +
        `would run the same tasks: .*take the run over with: weft resume ${runId} --store \\S+ --force$`,
      'm',
    ),
  );
  assert.doesNotMatch(end.stderr, /continue it with/);
  await winner.printed('started');
  const ownedMs = performance.now() - spawnedAt;
  writeFileSync(gate, '');
  const won = await winner.finished;
  assert.equal(won.code, 0, won.stderr);
  assert.equal(won.stdout, 'started\n100 done\n');
  assertEachRanOnce(log);
  t.diagnostic(
    `the refused weft resume ended ${Math.round(refusedMs)} ms after both were started; ` +
      `the owner printed that it started after ${Math.round(ownedMs)} ms`,
  );
}

describe('two weft resume racing for one run', { timeout: 240_000 }, () => {
  it('SQLite: one runs, the other is refused at once naming it, no task runs twice', async (t) => {
    await race(sqlite, 'sqlite', t);
  });

  const schema = freshPostgresSchema('clilease');
  it('PostgreSQL: one runs, the other is refused at once naming it, no task runs twice', async (t) => {
    await race(schema.url, 'postgres', t);
  });
});

describe('a run whose owner died', { timeout: 240_000 }, () => {
  it('SIGKILLed on this machine: stopped, and resumed at once', async (t) => {
    const log = join(dir, 'killed.log');
    await failedRun('killed', inStore(sqlite, log));
    const owner = startWeft(
      ['resume', 'killed', '--no-progress'],
      inStore(sqlite, log, join(dir, 'killed.gate')),
    );
    await owner.printed('started');
    owner.child.kill('SIGKILL');
    await owner.finished;
    assert.equal(await statusOf('killed', inStore(sqlite, log)), 'stopped');
    const startedAt = performance.now();
    const resumed = await weft(['resume', 'killed', '--no-progress'], inStore(sqlite, log));
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(resumed.stdout, 'started\n100 done\n');
    assertEachRanOnce(log);
    t.diagnostic(`resumed in ${Math.round(performance.now() - startedAt)} ms`);
  });

  it('on another machine: running until its lease expires, then resumable', async () => {
    const log = join(dir, 'foreign.log');
    const options = inStore(sqlite, log);
    const store = await openStore(sqlite);
    try {
      const foreign = 'otherhost:1:x';
      await store.openRun('foreign', { file: job, args: [] }, { owner: foreign, leaseMs: 600_000 });
      assert.equal(await statusOf('foreign', options), 'running');
      const refused = await weft(['resume', 'foreign', '--no-progress'], options);
      assert.equal(refused.code, 1);
      assert.match(
        refused.stderr,
        /^weft: RunBusyError: Run 'foreign' is running in process 1 on otherhost, whose lease/m,
      );
      const rerun = await weft(['run', job, '--no-progress', '--run-id', 'foreign'], options);
      assert.equal(rerun.code, 1);
      assert.match(
        rerun.stderr,
        /RunBusyError: Run 'foreign' is running in process 1 on otherhost/,
      );
      // Its machine died: the lease runs out.
      assert.equal(await store.renewLease('foreign', foreign, 1), true);
      await pastLease(store, 'foreign');
      assert.equal(await statusOf('foreign', options), 'stopped');
      const resumed = await weft(['resume', 'foreign', '--no-progress'], options);
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.equal(resumed.stdout, 'started\n100 done\n');
    } finally {
      await store.close();
    }
  });

  it('named by a live pid of this machine that is not weft (a reused pid): resumable once its lease expired', async () => {
    const log = join(dir, 'reused.log');
    const options = inStore(sqlite, log);
    const store = await openStore(sqlite);
    try {
      const reused = `${hostname()}:${process.ppid}:x`;
      await store.openRun(
        'reused',
        { file: job, args: [], pid: process.ppid, host: hostname() },
        { owner: reused, leaseMs: 1 },
      );
      await pastLease(store, 'reused');
      assert.equal(await statusOf('reused', options), 'stopped');
      const resumed = await weft(['resume', 'reused', '--no-progress'], options);
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.equal(resumed.stdout, 'started\n100 done\n');
    } finally {
      await store.close();
    }
  });
});

describe('weft resume --force', { timeout: 240_000 }, () => {
  it('takes a live run over with a warning when not on a terminal; the old owner stops and leaves the run alone', async () => {
    const log = join(dir, 'forced.log');
    await failedRun('forced', inStore(sqlite, log));
    const old = startWeft(
      ['resume', 'forced', '--no-progress'],
      inStore(sqlite, log, join(dir, 'forced-old.gate')),
    );
    await old.printed('started');
    const newGate = join(dir, 'forced-new.gate');
    const taker = startWeft(
      ['resume', 'forced', '--force', '--no-progress'],
      inStore(sqlite, log, newGate),
    );
    await taker.printed('started');
    // The old owner finds the lease lost at its next renewal, and stops.
    const stopped = await old.finished;
    assert.equal(stopped.code, 1);
    assert.match(
      stopped.stderr,
      new RegExp(
        `^weft: RunBusyError: Run 'forced' was taken over by process ${taker.child.pid} on this machine`,
        'm',
      ),
    );
    assert.doesNotMatch(stopped.stderr, /continue it with/);
    const runs = JSON.parse((await weft(['runs', '--json'], inStore(sqlite, log))).stdout);
    const run = runs.find((r: { id: string }) => r.id === 'forced');
    assert.equal(run.status, 'running', 'the old owner did not finish the run');
    assert.equal(run.attempts, 3);
    writeFileSync(newGate, '');
    const took = await taker.finished;
    assert.equal(took.code, 0, took.stderr);
    assert.match(
      took.stderr,
      new RegExp(
        `^weft: warning: taking run forced over from process ${old.child.pid} on this machine .*; if it still runs, it stops`,
        'm',
      ),
    );
    assert.equal(took.stdout, 'started\n100 done\n');
    assert.equal(await statusOf('forced', inStore(sqlite, log)), 'completed');
    assertEachRanOnce(log);
  });

  it("takes a run over when this machine's clock runs ahead of the database's", async () => {
    // Judged by this machine's clock, the lease has expired; by the database's, it lasts.
    const ahead = join(dir, 'clock-ahead.mjs');
    writeFileSync(ahead, 'const now = Date.now;\nDate.now = () => now() + 3_600_000;\n');
    const log = join(dir, 'ahead.log');
    const options = inStore(sqlite, log);
    const store = await openStore(sqlite);
    try {
      await store.openRun(
        'ahead',
        { file: job, args: [] },
        { owner: 'otherhost:1:x', leaseMs: 600_000 },
      );
      const nodeOptions = `${process.env.NODE_OPTIONS ?? ''} --import ${pathToFileURL(ahead)}`;
      const taken = await weft(['resume', 'ahead', '--force', '--no-progress'], {
        env: { ...options.env, NODE_OPTIONS: nodeOptions.trim() },
      });
      assert.equal(taken.code, 0, taken.stderr);
      assert.equal(taken.stdout, 'started\n100 done\n');
      assert.equal(await statusOf('ahead', options), 'completed');
    } finally {
      await store.close();
    }
  });

  it('asks first on a terminal: n leaves the run to its owner, y takes it over', async () => {
    const log = join(dir, 'asked.log');
    await failedRun('asked', inStore(sqlite, log));
    const old = startWeft(
      ['resume', 'asked', '--no-progress'],
      inStore(sqlite, log, join(dir, 'asked-old.gate')),
    );
    await old.printed('started');
    const declined = await onTerminal(['resume', 'asked', '--force', '--no-progress'], 'n', log);
    assert.equal(declined.code, 1, declined.screen);
    assert.match(
      declined.screen,
      new RegExp(
        `weft: run asked is running in process ${old.child.pid} on this machine .*Take it over\\? .*\\[y/N\\]`,
      ),
    );
    assert.match(
      declined.screen,
      new RegExp(
        `ValidationError: Run 'asked' was not taken over: it stays with process ${old.child.pid}`,
      ),
    );
    assert.equal(await statusOf('asked', inStore(sqlite, log)), 'running');

    const accepted = await onTerminal(['resume', 'asked', '--force', '--no-progress'], 'y', log);
    assert.equal(accepted.code, 0, accepted.screen);
    assert.match(accepted.screen, /100 done/);
    const stopped = await old.finished;
    assert.equal(stopped.code, 1);
    assert.match(stopped.stderr, /RunBusyError: Run 'asked' was taken over/);
    assert.equal(await statusOf('asked', inStore(sqlite, log)), 'completed');
    assertEachRanOnce(log);
  });
});

/**
 * Runs `weft ...args` on a pseudo-terminal (made by `script`), answers `answer` to its
 * question, and returns its exit code and what it wrote, without terminal controls (the
 * question is longer than a line, and redrawn as the answer is typed).
 */
async function onTerminal(
  args: readonly string[],
  answer: string,
  log: string,
): Promise<{ code: number | null; screen: string }> {
  const command = [
    process.execPath,
    '--conditions=weft-source',
    '--import',
    'tsx',
    'src/cli/main.ts',
    ...args,
  ].join(' ');
  const env: NodeJS.ProcessEnv = { ...process.env, WEFT_STORE: sqlite, WEFT_TEST_LOG: log };
  delete env.WEFT_EXECUTOR;
  delete env.WEFT_TEST_GATE;
  const { child, terminal, exited } = spawnOnTerminal(command, { columns: 200, cwd: root, env });
  try {
    await Promise.race([
      terminal.until((screen) => screen.includes('[y/N]')),
      exited.then(() => assert.fail(`weft ended without asking:\n${terminal.text()}`)),
    ]);
    child.stdin.write(`${answer}\n`);
    const code = await exited;
    // biome-ignore lint/suspicious/noControlCharactersInRegex: terminal controls are what is removed
    return { code, screen: terminal.writes.join('').replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '') };
  } finally {
    child.kill();
  }
}
