/**
 * The one registry of definitions: references are portable (from the project root),
 * a worker resolves them by importing the module, and odd names never collide.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { isTask, type Task, task } from 'weftjs';
import {
  definitionNames,
  definitionRef,
  moduleLocation,
  moduleReference,
  projectEnv,
  projectRoot,
  register,
  registered,
  resolveDefinition,
} from '../../src/core/registry.ts';

const run = promisify(execFile);
const repo = fileURLToPath(new URL('../..', import.meta.url));
const fixture = new URL('../fixtures/tasks.ts', import.meta.url).href;

describe('module references', () => {
  it('name a module inside the project from its root, and back', () => {
    assert.equal(projectRoot(), repo.replace(/[\\/]$/, ''));
    assert.equal(moduleReference(fixture), './test/fixtures/tasks.ts');
    assert.equal(moduleLocation('./test/fixtures/tasks.ts'), fixture);
  });

  it('keep the URL of a module outside the project, and of a non-file module', () => {
    const outside = pathToFileURL(join(tmpdir(), 'elsewhere', 'job.mjs')).href;
    assert.equal(moduleReference(outside), outside);
    assert.equal(moduleLocation(outside), outside);
    const data = 'data:text/javascript,export default 1';
    assert.equal(moduleReference(data), data);
  });

  it('are what a task carries for workers', () => {
    const made = task('registry-test:ref', (x: number) => x + 1);
    assert.deepEqual(made.ref, {
      kind: 'task',
      name: 'registry-test:ref',
      module: './test/engine/registry.test.ts',
    });
  });
});

describe('resolveDefinition', () => {
  it('imports the module of a reference and finds the task in it', async () => {
    const found = await resolveDefinition<Task<number, number>>({
      kind: 'task',
      name: 'fixtures:square',
      module: './test/fixtures/tasks.ts',
    });
    assert.ok(isTask(found));
    assert.equal(await found.fn(7, undefined as never), 49);
    const { square } = (await import(fixture)) as { square: Task };
    assert.equal(found, square);
  });

  it('names the definition, the module and the fix when the name is not there', async () => {
    await assert.rejects(
      resolveDefinition({ kind: 'task', name: 'no-such-task', module: './test/fixtures/tasks.ts' }),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, 'WEFT_UNKNOWN_TASK');
        assert.match(
          error.message,
          /No task named 'no-such-task' after importing \.\/test\/fixtures\/tasks\.ts/,
        );
        assert.match(error.message, /top level of that module/);
        return true;
      },
    );
    await assert.rejects(
      resolveDefinition({ kind: 'flow', name: 'NoSuchFlow', module: './test/fixtures/tasks.ts' }),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, 'WEFT_VALIDATION');
        assert.match(error.message, /No flow named 'NoSuchFlow'/);
        return true;
      },
    );
  });

  it('says when the module itself fails to load, with its error as the cause', async () => {
    await assert.rejects(
      resolveDefinition({ kind: 'task', name: 'x', module: './test/fixtures/not-there.ts' }),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, 'WEFT_UNKNOWN_TASK');
        assert.match(error.message, /its module \.\/test\/fixtures\/not-there\.ts failed to load/);
        assert.ok(error.cause instanceof Error);
        return true;
      },
    );
  });

  it('resolves a reference from the root of another checkout of the project (a worker elsewhere)', async () => {
    // A copy of a project somewhere else, started from one of its subfolders: the
    // reference is read from the nearest package.json above the working directory.
    const project = mkdtempSync(join(tmpdir(), 'weft-registry-'));
    after(() => rmSync(project, { recursive: true, force: true }));
    mkdirSync(join(project, 'lib'));
    mkdirSync(join(project, 'node_modules'));
    mkdirSync(join(project, 'deep', 'er'), { recursive: true });
    symlinkSync(repo, join(project, 'node_modules', 'weftjs'), 'dir');
    writeFileSync(join(project, 'package.json'), '{ "type": "module" }\n');
    writeFileSync(
      join(project, 'lib', 'tasks.mjs'),
      "import { task } from 'weftjs';\nexport const double = task('elsewhere:double', (x) => 2 * x);\n",
    );
    const script = `
      const { resolveDefinition } = await import(process.argv[1]);
      const found = await resolveDefinition({ kind: 'task', name: 'elsewhere:double', module: './lib/tasks.mjs' });
      console.log(JSON.stringify({ value: await found.fn(21), module: found.module }));
    `;
    const args = [
      '--conditions=weft-source',
      '--import',
      import.meta.resolve('tsx'),
      '--input-type=module',
      '-e',
      script,
      new URL('../../src/core/registry.ts', import.meta.url).href,
    ];
    const { stdout } = await run(process.execPath, args, { cwd: join(project, 'deep', 'er') });
    const answer = JSON.parse(stdout) as { value: number; module: string };
    assert.equal(answer.value, 42);
    assert.equal(fileURLToPath(answer.module), join(project, 'lib', 'tasks.mjs'));
    // Started elsewhere, a worker is told the root (as weft's pools tell theirs).
    const told = await run(process.execPath, args, {
      cwd: tmpdir(),
      env: { ...process.env, WEFT_PROJECT_ROOT: project },
    });
    assert.equal((JSON.parse(told.stdout) as { value: number }).value, 42);
  });

  it("gives the workers it starts this thread's root", () => {
    assert.equal(projectEnv().WEFT_PROJECT_ROOT, projectRoot());
    assert.equal(projectEnv().PATH, process.env.PATH);
  });
});

describe('the registry', () => {
  it('keeps odd names apart, by kind', () => {
    const odd = ['__proto__', 'constructor', 'a\u0000b', '\ud800', 'line\nbreak', 'task', ''];
    for (const [i, name] of odd.entries()) {
      register('operator', name, { value: i, module: undefined, definedAt: undefined });
      register('batch', name, { value: -i, module: undefined, definedAt: undefined });
    }
    for (const [i, name] of odd.entries()) {
      assert.equal(registered('operator', name)?.value, i);
      assert.equal(registered('batch', name)?.value, -i);
    }
    assert.equal(registered('task', '__proto__'), undefined);
    assert.deepEqual(definitionNames('operator').sort(), [...odd].sort());
    assert.equal(Object.getPrototypeOf({}), Object.prototype);
  });

  it('makes no reference for a definition without a module', () => {
    assert.equal(definitionRef('operator', 'x', undefined), undefined);
    assert.deepEqual(definitionRef('operator', 'x', fixture), {
      kind: 'operator',
      name: 'x',
      module: './test/fixtures/tasks.ts',
    });
  });
});

describe('the module of a definition', () => {
  it('is the file that ran, not the source a source map names', async () => {
    // Built code run under tsx has source maps on: its printed stack names the TypeScript it
    // came from, which a worker must not import (it would load a second copy of the code).
    const dir = mkdtempSync(join(tmpdir(), 'weft-sourcemap-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const map = {
      version: 3,
      sources: ['original-source.ts'],
      names: [],
      mappings: 'AAAA;AACA;AACA',
    };
    const built = join(dir, 'built.mjs');
    writeFileSync(
      built,
      [
        `import { task } from ${JSON.stringify(new URL('../../src/index.ts', import.meta.url).href)};`,
        "const defined = task('sourcemap-probe', (x) => x);",
        'console.log(JSON.stringify({ module: defined.module, definedAt: defined.definedAt }));',
        `//# sourceMappingURL=data:application/json;base64,${Buffer.from(JSON.stringify(map)).toString('base64')}`,
      ].join('\n'),
    );
    const { stdout } = await run(
      process.execPath,
      ['--enable-source-maps', '--conditions=weft-source', '--import', 'tsx', built],
      { cwd: repo },
    );
    const { module, definedAt } = JSON.parse(stdout) as { module: string; definedAt: string };
    assert.equal(module, pathToFileURL(built).href);
    // People still read where they wrote it.
    assert.match(definedAt, /original-source\.ts:2:\d+$/);
  });
});
