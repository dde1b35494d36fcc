/**
 * Every entry point, imported alone, runs on the default executor: the one WEFT_EXECUTOR
 * chooses, installed by the one module they all re-export from. Each case runs in a
 * fresh Node that imports a single subpath by package name, so nothing else can have
 * installed a default first.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Programs that fan out without passing an executor, each importing one entry point. */
const programs = {
  weftjs: `
    import { map } from 'weftjs';
    console.log(JSON.stringify(await map([1, 2, 3], (n) => n * 2)));
  `,
  'weftjs/app': `
    import { ApplicationBuilder, action, MapStates } from 'weftjs/app';
    const double = action({ reads: ['n'], writes: ['n'] }, (state) =>
      state.update({ n: state.get('n') * 2 }),
    ).withName('double');
    class DoubleEach extends MapStates {
      get reads() { return ['numbers']; }
      get writes() { return ['doubled']; }
      action() { return double; }
      *states(state) { for (const n of state.get('numbers')) yield state.update({ n }); }
      reduce(state, states) { return state.update({ doubled: [...states].map((s) => s.get('n')) }); }
    }
    const app = new ApplicationBuilder()
      .withActions({ doubleEach: new DoubleEach() })
      .withTransitions()
      .withState({ numbers: [1, 2, 3] })
      .withEntrypoint('doubleEach')
      .build();
    const { state } = await app.run({ haltAfter: ['doubleEach'] });
    console.log(JSON.stringify(state.get('doubled')));
  `,
  'weftjs/flow': `
    import { Flow, ForEach, Parameter } from 'weftjs/flow';
    const flow = new Flow('DefaultExecutor', { store: 'memory:' });
    const Shard = flow.layer('Shard', (self) => { self.shard({ n: [1, 2, 3] }); });
    const Double = flow.layer(
      'Double',
      { foreach: new ForEach({ parameters: [new Parameter({ layer: Shard, attribute: 'n' })] }) },
      (self, shard) => { self.set({ doubled: shard.n * 2 }); },
      [Shard],
    );
    const result = await flow.run();
    console.log(JSON.stringify(await (await result.layer(Double)).doubled.toArray()));
    await result.close();
  `,
  'weftjs/compiler': `
    import { scheduleTasks } from 'weftjs/compiler';
    const observations = await scheduleTasks(
      [
        { idx: 1, tool: 'add', args: [1, 2] },
        { idx: 2, tool: 'add', args: [3, 4] },
        { idx: 3, tool: 'add', args: ['$1', '$2'] },
      ],
      { tools: { add: ([a, b]) => a + b } },
    );
    console.log(JSON.stringify([...observations.values()]));
  `,
} as const;

const expected: Record<keyof typeof programs, string> = {
  weftjs: '[2,4,6]',
  'weftjs/app': '[2,4,6]',
  'weftjs/flow': '[2,4,6]',
  'weftjs/compiler': '[3,7,10]',
};

/** Runs `program` in a new Node from the package's own folder, so that it imports weftjs by name. */
async function runAlone(
  program: string,
  executor: string | undefined,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env };
  delete env.WEFT_EXECUTOR;
  delete env.WEFT_WORKERS;
  if (executor !== undefined) env.WEFT_EXECUTOR = executor;
  const args = [
    '--conditions=weft-source',
    '--import',
    'tsx',
    '--input-type=module',
    '-e',
    program,
  ];
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, args, {
      cwd: root,
      env,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
    return { code, stdout, stderr };
  }
}

describe('the default executor', () => {
  for (const [entry, program] of Object.entries(programs)) {
    const name = entry as keyof typeof programs;
    it(`is there when only ${entry} is imported`, async () => {
      const { code, stdout, stderr } = await runAlone(program, undefined);
      assert.equal(code, 0, stderr);
      assert.equal(stdout.trim(), expected[name]);
    });

    it(`is the one WEFT_EXECUTOR names when only ${entry} is imported`, async () => {
      const inline = await runAlone(program, 'inline');
      assert.equal(inline.code, 0, inline.stderr);
      assert.equal(inline.stdout.trim(), expected[name]);
      const unknown = await runAlone(program, 'nonsense');
      assert.notEqual(unknown.code, 0);
      assert.match(unknown.stderr, /Unknown executor 'nonsense'/);
    });
  }
});
