/**
 * weft as its users get it: the packed package installed into new projects, one an ES
 * module project and one CommonJS (what `npm init -y` makes), running TypeScript and
 * JavaScript jobs with `npx weft run` on threads and processes, and type-checked with a
 * strict `nodenext` tsconfig against the published types. It catches what tests inside
 * the repository cannot: module systems, the published declarations, the bin, and the
 * native SQLite binding built by a fresh install.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { freshQueue, redisUrl } from '../fixtures/services.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const fixtures = join(root, 'test/fixtures');
const ours = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  devDependencies: Record<string, string>;
};

interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to its end; a command that runs for ten minutes is killed and fails. */
function sh(
  command: string,
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv = {},
): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { cwd, env: { ...cleanEnv, ...env }, timeout: 600_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const failure = error as (Error & { code?: unknown; killed?: boolean }) | null;
        if (failure?.killed) reject(new Error(`${command} ${args.join(' ')} hung:\n${stderr}`));
        else {
          const code = typeof failure?.code === 'number' ? failure.code : failure ? 1 : 0;
          resolve({ code, stdout, stderr });
        }
      },
    );
  });
}

async function ok(command: string, args: readonly string[], cwd: string): Promise<string> {
  const outcome = await sh(command, args, cwd);
  assert.equal(outcome.code, 0, `${command} ${args.join(' ')} failed:\n${outcome.stderr}`);
  return outcome.stdout;
}

/** A `weft` command left running (a worker, the UI), with what it printed so far. */
interface Started {
  readonly child: ChildProcess;
  readonly exited: Promise<unknown[]>;
  output(): string;
}

/**
 * Starts the project's installed bin itself, not npx, so that a SIGTERM reaches `weft`
 * (npx ends on the signal without waiting for its child).
 */
function startWeft(project: string, args: readonly string[], env: NodeJS.ProcessEnv): Started {
  const child = spawn(join(project, 'node_modules', '.bin', 'weft'), args, {
    cwd: project,
    env: { ...cleanEnv, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return { child, exited: once(child, 'exit'), output: () => output };
}

// The projects must see nothing of this repository's test setup.
const cleanEnv: NodeJS.ProcessEnv = { ...process.env };
for (const name of [
  'NODE_OPTIONS',
  'WEFT_EXECUTOR',
  'WEFT_WORKERS',
  'WEFT_STORE',
  'NODE_TEST_CONTEXT',
]) {
  delete cleanEnv[name];
}

const workspace = mkdtempSync(join(tmpdir(), 'weft-consumer-'));
const esm = join(workspace, 'esm');
const cjs = join(workspace, 'cjs');

/** A strict tsconfig as a user of Node 20 writes it. */
const tsconfig = {
  compilerOptions: {
    target: 'ES2022',
    lib: ['ES2023'],
    module: 'nodenext',
    moduleResolution: 'nodenext',
    types: ['node'],
    strict: true,
    noEmit: true,
    allowImportingTsExtensions: true,
    skipLibCheck: false,
    // Inferred types of exports must be nameable from outside weftjs.
    declaration: true,
  },
};

before(async () => {
  // `npm test` built dist/ before the tests; packing must not build it again (npm pack runs
  // `prepare`), which would rewrite dist/ under the test files that run the bin meanwhile.
  const packed = await ok(
    'npm',
    ['pack', '--json', '--ignore-scripts', '--pack-destination', workspace],
    root,
  );
  const [{ filename }] = JSON.parse(packed) as [{ filename: string }];
  mkdirSync(esm);
  writeFileSync(
    join(esm, 'package.json'),
    JSON.stringify({
      name: 'consumer-esm',
      version: '1.0.0',
      private: true,
      type: 'module',
      // The native SQLite binding is built by its install script, approved as users do.
      allowScripts: { 'better-sqlite3': true, esbuild: true },
    }),
  );
  await ok(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      join(workspace, filename),
      `typescript@${ours.devDependencies.typescript}`,
      `@types/node@${ours.devDependencies['@types/node']}`,
    ],
    esm,
  );
  // The CommonJS project gets a copy of the same install: installing again would only
  // build the SQLite binding a second time.
  mkdirSync(cjs);
  await ok('npm', ['init', '-y'], cjs);
  cpSync(join(esm, 'node_modules'), join(cjs, 'node_modules'), {
    recursive: true,
    verbatimSymlinks: true,
  });
  for (const project of [esm, cjs]) {
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
  }
});

after(() => rmSync(workspace, { recursive: true, force: true }));

/** Type-checks a project with its own TypeScript, as its user would. */
async function typecheck(project: string): Promise<void> {
  // `--` keeps npx from reading tsc's `-p` as its own `--package`.
  const { code, stdout, stderr } = await sh('npx', ['--no', '--', 'tsc', '-p', '.'], project);
  assert.equal(code, 0, `${stdout}${stderr}`);
}

/** The job files each project runs, by extension: TypeScript text for every TS extension. */
function jobSource(project: string, extension: string): string {
  if (/ts$/.test(extension)) return 'job.ts';
  if (extension === '.mjs') return 'job.mjs';
  if (extension === '.cjs') return 'job.cjs';
  return project === esm ? 'job.mjs' : 'job.cjs';
}

const extensions = ['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs'];

for (const [kind, project] of [
  ['an ES module project', esm],
  ['a CommonJS project', cjs],
] as const) {
  describe(`weftjs installed in ${kind}`, () => {
    for (const extension of extensions) {
      for (const executor of ['threads', 'processes'] as const) {
        // Every extension on threads; processes for the TypeScript ones.
        if (executor === 'processes' && !/ts$/.test(extension)) continue;
        it(`npx weft run job${extension} runs its tasks on ${executor}, recorded`, async () => {
          const file = `job-${executor}${extension}`;
          const runId = `job-${executor}-${extension.slice(1)}`;
          copyFileSync(
            join(fixtures, 'consumer', jobSource(project, extension)),
            join(project, file),
          );
          const { code, stdout, stderr } = await sh(
            'npx',
            ['--no', '--', 'weft', 'run', file, '--executor', executor, '--workers', '2'].concat([
              '--run-id',
              runId,
              '--no-progress',
              'a',
            ]),
            project,
          );
          assert.equal(code, 0, stderr);
          assert.deepEqual(JSON.parse(stdout), {
            squares: [1, 4, 9, 16],
            inWorker: true,
            sameRun: true,
            args: ['a'],
          });
          // Recorded in the embedded default store, whose native binding this install built.
          const shown = await sh('npx', ['--no', '--', 'weft', 'show', runId, '--json'], project);
          assert.equal(shown.code, 0, shown.stderr);
          const { run, tasks } = JSON.parse(shown.stdout) as { run: unknown; tasks: unknown[] };
          assert.ok(run);
          assert.equal(tasks.length, 4);
        });
      }
    }

    it('npx weft run batch.ts runs parallel methods of an exported batch class on threads and in processes', async () => {
      copyFileSync(join(fixtures, 'consumer', 'batch-job.ts'), join(project, 'batch.ts'));
      const { code, stdout, stderr } = await sh(
        'npx',
        ['--no', '--', 'weft', 'run', 'batch.ts', '--no-progress', '--store', 'memory:'],
        project,
      );
      assert.equal(code, 0, stderr);
      assert.deepEqual(JSON.parse(stdout), {
        inWorkers: [true, true, true],
        doubled: [2, 4, 6],
        tripled: [6, 12, 18],
      });
    });

    it('npx weft run compose.ts applies an exported composite to its exported batch, its operator task on threads', async () => {
      copyFileSync(join(fixtures, 'consumer', 'compose-job.ts'), join(project, 'compose.ts'));
      const { code, stdout, stderr } = await sh(
        'npx',
        ['--no', '--', 'weft', 'run', 'compose.ts', '--no-progress', '--store', 'memory:'],
        project,
      );
      assert.equal(code, 0, stderr);
      // x * 2 on a worker thread and x * 3 here, concatenated per example.
      assert.ok(stdout.includes('data: Tensor<float32>[2, 2] [ [ 2, 3 ], [ 4, 6 ] ]'), stdout);
      assert.equal(stdout.match(/inWorker: true/g)?.length, 2, stdout);
    });

    it('npx weft worker runs the tasks of npx weft run bullmq.ts --executor bullmq', async () => {
      copyFileSync(join(fixtures, 'consumer', 'bullmq-job.ts'), join(project, 'bullmq.ts'));
      const queue = freshQueue(`consumer-${project === esm ? 'esm' : 'cjs'}`);
      const env = { WEFT_REDIS_URL: redisUrl, WEFT_QUEUE: queue };
      // Jobs wait in the queue until the worker takes them: no need to wait for it first.
      const worker = startWeft(project, ['worker', '--concurrency', '4'], env);
      try {
        const { code, stdout, stderr } = await sh(
          'npx',
          ['--no', '--', 'weft', 'run', 'bullmq.ts', '--executor', 'bullmq', '--no-progress'],
          project,
          env,
        );
        assert.equal(code, 0, `${stderr}\nworker:\n${worker.output()}`);
        assert.deepEqual(JSON.parse(stdout), {
          cubes: [1, 8, 27, 64, 125],
          elsewhere: true,
          inWorker: true,
        });
      } finally {
        worker.child.kill('SIGTERM');
      }
      const [exitCode] = await worker.exited;
      assert.equal(exitCode, 0, worker.output());
    });

    it("runs the README's first snippet as written: npx weft run squares.ts", async () => {
      copyFileSync(join(root, 'examples/squares.ts'), join(project, 'squares.ts'));
      const { code, stdout, stderr } = await sh(
        'npx',
        ['--no', '--', 'weft', 'run', 'squares.ts', '--no-progress'],
        project,
      );
      assert.equal(code, 0, stderr);
      assert.equal(stdout, '[ 1, 4, 9 ]\n[ 16, 25, 36 ]\n333383335000\n');
    });

    it('npx weft ui serves the runs recorded here and the page built into the package', async () => {
      const ui = startWeft(project, ['ui', '--port', '0'], {});
      try {
        const url = await new Promise<string>((resolve, reject) => {
          ui.child.stdout!.on('data', () => {
            const found = /weft ui: (http:\/\/127\.0\.0\.1:\d+)/.exec(ui.output());
            if (found) resolve(found[1]!);
          });
          ui.child.once('exit', (code) =>
            reject(new Error(`weft ui exited (${code}): ${ui.output()}`)),
          );
        });
        const runs = (await (await fetch(`${url}/api/runs`)).json()) as {
          runs: { id: string; status: string }[];
        };
        assert.ok(runs.runs.length > 0, JSON.stringify(runs));
        assert.ok(
          runs.runs.some((run) => run.status === 'completed'),
          JSON.stringify(runs),
        );
        const page = await fetch(`${url}/runs/${encodeURIComponent(runs.runs[0]!.id)}`);
        assert.equal(page.status, 200);
        const html = await page.text();
        const script = /<script[^>]+src="([^"]+)"/.exec(html)?.[1];
        assert.ok(script, html);
        const asset = await fetch(`${url}${script}`);
        assert.equal(asset.status, 200);
        assert.match(asset.headers.get('content-type') ?? '', /javascript/);
      } finally {
        ui.child.kill('SIGTERM');
      }
      const [exitCode] = await ui.exited;
      assert.equal(exitCode, 0, ui.output());
    });

    it('type-checks jobs in every TypeScript extension, and the type tests, with a strict nodenext tsconfig', async () => {
      for (const extension of ['.ts', '.mts', '.cts']) {
        copyFileSync(join(fixtures, 'consumer', 'job.ts'), join(project, `typed${extension}`));
      }
      copyFileSync(join(root, 'test/types/consumer-types.ts'), join(project, 'consumer-types.ts'));
      await typecheck(project);
    });
  });
}

describe('the examples, against the published package', () => {
  it('type-check in an ES module project with a strict nodenext tsconfig', async () => {
    const examples = join(esm, 'examples');
    cpSync(join(root, 'examples'), examples, { recursive: true });
    await typecheck(esm);
  });
});

describe('a script that maps at its top level, run with plain node', () => {
  it('is refused in the workers with what to do, never more workers than the pool', async () => {
    const dir = join(esm, 'toplevel');
    mkdirSync(dir, { recursive: true });
    for (const file of ['squares.mjs', 'count.mjs']) {
      copyFileSync(join(fixtures, 'toplevel', file), join(dir, file));
    }
    const counter = join(dir, 'evaluations');
    const { code, stderr } = await sh(process.execPath, ['squares.mjs'], dir, {
      WEFT_TEST_EVALUATIONS: counter,
    });
    assert.notEqual(code, 0);
    assert.match(stderr, /TopLevelWorkError/);
    assert.match(stderr, /weft run <file>/);
    const evaluations = readFileSync(counter, 'utf8').split('\n').filter(Boolean).length;
    assert.ok(evaluations >= 2 && evaluations <= 3, `${evaluations} evaluations for a pool of 2`);
  });
});
