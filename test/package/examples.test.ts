/** Every example stays runnable: each runs through `weft run` and prints what it promises. */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  batchPipelineOutput,
  composeAugmentOutput,
  composeMergesOutput,
} from '../fixtures/example-outputs.ts';
import { weftRun } from '../fixtures/weft-cli.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
// Runs are recorded in a store of this test file's own, not in the project's .weft/.
const storeFile = `sqlite:${join(mkdtempSync(join(tmpdir(), 'weft-cli-')), 'weft.db')}`;

function example(
  name: string,
  env: Record<string, string> = {},
  args: readonly string[] = [],
): Promise<string> {
  return weftRun(`examples/${name}.ts`, args, { env: { WEFT_STORE: storeFile, ...env } });
}

describe('examples', () => {
  it('are each a job for weft run; the modules they share live in examples/lib', () => {
    const modules = readdirSync(join(root, 'examples')).filter((name) =>
      /\.[cm]?[jt]s$/.test(name),
    );
    assert.ok(modules.length > 10);
    for (const name of modules) {
      const text = readFileSync(join(root, 'examples', name), 'utf8');
      assert.match(text, /^export default /m, `examples/${name} has no default export`);
    }
  });

  it('quickstart counts the primes below 3,000,000 on worker threads', async () => {
    const out = await example('quickstart');
    assert.match(out, /48\/48 ranges counted/);
    assert.match(out, /primes below 3,000,000: 216816\n$/);
  });

  it('quickstart gives the same answer on child processes, by configuration alone', async () => {
    const out = await example('quickstart', { WEFT_EXECUTOR: 'processes', WEFT_WORKERS: '2' });
    assert.match(out, /primes below 3,000,000: 216816\n$/);
  });

  it('prompts answers every prompt on every model, retrying the rate-limited ones', async () => {
    const out = await example('prompts');
    assert.equal(out.match(/answered/g)?.length, 12);
    assert.doesNotMatch(out, /failed/);
  });

  it('seed-dag gives the seed observations', async () => {
    const out = await example('seed-dag');
    assert.match(out, /observations: \{ '1': 1, '2': 2, '3': 3 \}/);
  });

  it('app-prompts asks every model every prompt and reduces in action-major order', async () => {
    const out = await example('app-prompts');
    const models = [...out.matchAll(/model: '([\w-]+)'/g)].map((m) => m[1]);
    assert.deepEqual(models, [
      ...['gpt-4', 'gpt-4', 'gpt-4'],
      ...['o1', 'o1', 'o1'],
      ...['claude', 'claude', 'claude'],
    ]);
    assert.equal(out.match(/words considered/g)?.length, 18); // in the list and in the report
  });

  it('app-threads counts primes per range on worker threads and on processes', async () => {
    for (const executor of ['threads', 'processes']) {
      const out = await example('app-threads', { WEFT_EXECUTOR: executor, WEFT_WORKERS: '2' });
      assert.match(out, /summary: 'primes below 2,400,000: 176302'/);
    }
  });

  // Every example of the laminar seed prints exactly what the seed prints.
  const seedOutputs: Record<string, string> = {
    'flow-sharded': '[1, 2, 3]\n2\n[2, 3]\n',
    'flow-foreach': '0 1\n1 2\n0 1 "a"\n1 2 "a"\n',
    'flow-grid': '0 1 "a"\n1 2 "a"\n2 3 "a"\n3 1 "b"\n4 2 "b"\n5 3 "b"\n',
    'flow-join': '[1, 2]\n2\n',
    'flow-chained':
      "0 'First' 1\n1 'First' 2\n2 'First' 3\n0 'Second' 1\n1 'Second' 2\n2 'Second' 3\n",
  };
  for (const [name, expected] of Object.entries(seedOutputs)) {
    it(`${name} prints what the seed prints`, async () => {
      assert.equal(await example(name), expected);
    });
  }

  it('flow-gridsearch fits every grid point on worker threads and finds the line', async () => {
    const out = await example('flow-gridsearch', { WEFT_EXECUTOR: 'threads', WEFT_WORKERS: '2' });
    assert.match(out, /^20 fits; best: rate [\d.]+, batch \d+\ny = 3\.00x - 1\.00\n$/);
  });

  it('compiler-seed runs the seed plan in its critical path', async () => {
    const out = await example('compiler-seed');
    assert.match(out, /observations: \{ '1': 1, '2': 2, '3': 3 \}/);
  });

  it('compiler-scripted plans, replans once (renumbered) and finishes', async () => {
    const out = await example('compiler-scripted', {}, ['Which city is warmer?']);
    assert.match(
      out,
      /answer: 'San Francisco is warmest: 7 °C warmer than New York \(Paris: \+3\)'/,
    );
    assert.match(out, /rounds: 2/);
    assert.match(out, /1 => 18, 2 => 11, 3 => 7, 4 => 14, 5 => 11, 6 => 3/);
  });

  it('batch-seed runs every example of the BatchFlow page, on every target', async () => {
    const out = await example('batch-seed');
    const lines = [
      'someAction (threads): [ 3, 6, 9, 12 ]',
      'positional (init lists): [ 111, 112, 113, 114 ]',
      "named (init objects, async): [ '0:6', '1:6', '2:6', '3:6' ]",
      'both (args(positional, named)): [ 0, 10, 20, 30 ]',
      "'0 (clearData false)'",
      'in place, no post: [ 2, 4, 6, 8 ]',
      'in place on threads (shared memory): [ -0.066, -0.001, -0, -0 ]',
      "async method: [ 'fetched 0', 'fetched 1', 'fetched 2', 'fetched 3' ]",
      "run_once: [ 'data.bin as raw' ]",
      'mpc, a function per item in child processes: [ 5, 10, 15, 20 ]',
      'mpc, a task per item: [ 6, 7, 8, 9 ]',
      'errors in place for post: failed: 0, item 1 is broken, 2, 3',
      "components (init 'images'): [ 6, 15 ]",
    ];
    for (const line of lines) assert.ok(out.includes(line), `missing: ${line}\n${out}`);
  });

  it('batch-pipeline runs its lazily configured pipeline in batches of 4', async () => {
    const out = await example('batch-pipeline');
    assert.equal(out, batchPipelineOutput);
  });

  it('batch-images transforms images alike with for and with threads', async () => {
    const out = await example('batch-images');
    assert.match(out, /^for: \d+ ms\nthreads: \d+ ms \([\d.]+× for\)\nsame images: true\n$/);
  });

  it('compose-merges prints the datarax merge examples', async () => {
    assert.equal(await example('compose-merges'), composeMergesOutput);
  });

  it('compose-augment augments images on threads, with the checksum of its seed on every executor', async () => {
    const noExecutor = { WEFT_EXECUTOR: undefined, WEFT_WORKERS: undefined };
    const onThreads = await weftRun('examples/compose-augment.ts', [], {
      env: { WEFT_STORE: storeFile, ...noExecutor },
    });
    const [, where, checksum] = composeAugmentOutput.exec(onThreads) ?? [];
    assert.equal(where, 'threads', onThreads);
    // The brightness factor of each image is kept as its metadata.
    assert.match(onThreads, /\{ factor: \d\.\d+ \}/);
    const inline = await example('compose-augment', {}, ['--executor', 'inline']);
    assert.deepEqual(composeAugmentOutput.exec(inline)?.slice(1), ['inline', checksum]);
  });

  it('state shows immutable updates', async () => {
    const out = await example('state');
    assert.match(out, /start: \{ count: 0, items: \[\] \}/);
    assert.match(out, /next: \{ count: 3, items: \[ 'a', 'b', 'c' \] \}/);
  });
});
