/**
 * The progress display on a terminal, driven through fake TTY streams that write into a
 * small terminal emulator (test/fixtures/terminal.ts): the job's lines stay whole above
 * the bars, partial lines wait for their newline, and bars are named for people with
 * their totals known while they run. Also the plain lines written when not on a terminal.
 */
import assert from 'node:assert/strict';
import { Console } from 'node:console';
import { after, before, describe, it } from 'node:test';
import { asyncPool, EventBus, events, MemoryStore, map, task, threads } from 'weftjs';
import { ApplicationBuilder, action, mapReduceAction } from 'weftjs/app';
import { Flow, ForEach, Parameter } from 'weftjs/flow';
import { showProgress } from '../../src/cli/progress.ts';
import { deferred, Gate } from '../fixtures/app-parallel-sync.ts';
import { flow as threadsFlow } from '../fixtures/flow-threads.ts';
import { fakeTty, Terminal } from '../fixtures/terminal.ts';

const gates = [deferred(), deferred(), deferred()];
const square = task('square', async (x: number) => {
  await gates[x]!.promise;
  return x * x;
});

/** A bar line as drawn: ` ██░░ label done/total…`. */
const bar = (text: string) => new RegExp(`^ [█░]{24} ${text}$`, 'm');
const summaryLine = /^tasks: \d+ done, \d+ failed, \d+ running · \d+\.\d s · [\d,]+\/s$/;

// The display's timer does not hold the process open; the tests wait on it, so something must.
let alive: ReturnType<typeof setInterval> | undefined;
before(() => {
  alive = setInterval(() => {}, 60_000);
});
after(() => clearInterval(alive));

describe('progress on a terminal', () => {
  it('prints the job’s lines whole above the bars; a partial line waits for its newline', async () => {
    const terminal = new Terminal();
    const stdout = fakeTty(terminal);
    const stderr = fakeTty(terminal);
    const bus = new EventBus();
    const stop = showProgress(bus, stderr, { intervalMs: 1, capture: [stdout, stderr] });
    const jobConsole = new Console(stdout, stderr);
    const result = map([0, 1, 2], square, { events: bus, executor: asyncPool(), concurrency: 1 });
    const squares = result.then((values) => values);

    await terminal.until((screen) => bar('square 0/3').test(screen));
    stdout.write('Result: ');
    jobConsole.error('a warning from the job');
    // The line went above the bars, which were drawn again below it.
    await terminal.until((screen) => /a warning from the job\n.*square 0\/3/.test(screen));
    gates[0]!.resolve();
    await terminal.until((screen) => bar('square 1/3').test(screen));
    assert.doesNotMatch(terminal.text(), /Result/, 'a partial line is held');
    stdout.write('4');
    stdout.write(Buffer.from('2\n'));
    jobConsole.log('a second line');
    await terminal.until((screen) => /a second line\n.*square 1\/3/.test(screen));
    gates[1]!.resolve();
    gates[2]!.resolve();
    assert.deepEqual(await squares, [0, 1, 4]);
    stdout.write('no newline at the end');
    const summary = stop();

    const lines = terminal.text().split('\n');
    assert.deepEqual(lines.slice(0, -1), [
      'a warning from the job',
      'Result: 42',
      'a second line',
      ' ████████████████████████ square 3/3',
      'no newline at the end',
    ]);
    assert.equal(lines.at(-1), summary);
    assert.match(summary, summaryLine);
    // Writes go to the streams' own write again.
    stdout.write('after\n');
    assert.equal(terminal.text().split('\n').at(-1), 'after');
  });

  it('shows a name with terminal controls in it as text, never as a command', async () => {
    const terminal = new Terminal();
    const stderr = fakeTty(terminal);
    const bus = new EventBus();
    const stop = showProgress(bus, stderr, { intervalMs: 1, capture: [] });
    const red = task('red\u001b[31m', (x: number) => x);
    await map([1], red, { events: bus, executor: asyncPool() });
    stop();
    assert.match(terminal.text(), / red\\x1b\[31m 1\/1$/m);
    assert.ok(!terminal.text().includes('\u001b'));
  });

  it('names a flow’s bars after the flow and its ForEach layers, sized before they finish', async () => {
    const terminal = new Terminal();
    const stop = showProgress(events, fakeTty(terminal), { intervalMs: 1, capture: [] });
    const gate = new Gate();
    const flow = new Flow('Grid');
    const Data = flow.layer('Data', (self) => {
      self.shard({ x: [1, 2, 3, 4] });
    });
    flow.layer(
      'Square',
      { foreach: new ForEach({ parameters: [new Parameter({ layer: Data, attribute: 'x' })] }) },
      async (self, data) => {
        await gate.enter();
        self.set({ y: (data.x as number) ** 2 });
      },
      [Data],
    );
    try {
      const running = flow.run({ store: new MemoryStore(), executor: asyncPool() });
      await terminal.until((screen) => bar('Square 0/4').test(screen));
      gate.open();
      await (await running).close();
    } finally {
      gate.open();
      stop();
    }
    const screen = terminal.text();
    assert.match(screen, bar('Grid 2/2'));
    assert.match(screen, bar('Square 4/4'));
    assert.doesNotMatch(screen, /map:|dag |task \d|Data/);
  });

  it('names a flow’s bars on threads without the tasks that carry layers to workers', async () => {
    const terminal = new Terminal();
    const stop = showProgress(events, fakeTty(terminal), { intervalMs: 1, capture: [] });
    const executor = threads({ workers: 2 });
    try {
      await (await threadsFlow.run({ store: new MemoryStore(), executor })).close();
    } finally {
      await executor.close();
    }
    const summary = stop();
    const screen = terminal.text();
    assert.match(screen, bar('ThreadsGrid 3/3'));
    assert.match(screen, bar('Multiply 8/8'));
    assert.doesNotMatch(screen, /map:|%2F|runLayerTask|weft:flow/);
    // The layers and the ForEach tasks, each once.
    assert.match(summary, /^tasks: 11 done, 0 failed, 0 running/);
  });

  it('names an application’s parallel step after its action, its size known while it runs', async () => {
    const terminal = new Terminal();
    const stop = showProgress(events, fakeTty(terminal), { intervalMs: 1, capture: [] });
    const gate = new Gate();
    const double = action({ reads: ['x'], writes: ['y'] }, async (state) => {
      await gate.enter();
      return state.update({ y: state.get('x') * 2 });
    }).withName('double');
    const app = new ApplicationBuilder()
      .withActions({
        doubleAll: mapReduceAction({
          action: double,
          // A generator: the step learns how many tasks there are only by reading it.
          *state(state) {
            for (const x of state.get('xs') as number[]) yield state.update({ x });
          },
          reducer: (state, states) => state.update({ ys: [...states].map((s) => s.get('y')) }),
          reads: ['xs'],
          writes: ['ys'],
        }),
      })
      .withState({ xs: [1, 2, 3, 4, 5] })
      .withEntrypoint('doubleAll')
      .withParallelExecutor(asyncPool())
      .build();
    try {
      const running = app.run({ haltAfter: ['doubleAll'] });
      await terminal.until((screen) => bar('doubleAll 0/5').test(screen));
      gate.open();
      const { state } = await running;
      assert.deepEqual(state.get('ys'), [2, 4, 6, 8, 10]);
    } finally {
      gate.open();
      stop();
    }
    assert.match(terminal.text(), bar('doubleAll 5/5'));
  });
});

describe('progress elsewhere (plain lines)', () => {
  it('prints a line for a fan-out when its count moves, named for people', async () => {
    const written: string[] = [];
    let wanted: { readonly line: string; readonly seen: () => void } | undefined;
    const plain = {
      isTTY: false,
      write(text: string) {
        written.push(text);
        if (wanted && text.startsWith(wanted.line)) wanted.seen();
        return true;
      },
    } as unknown as NodeJS.WriteStream;
    /** Resolves once a line starting with `line` is written (at once if one was). */
    const lineFor = (count: string) =>
      new Promise<void>((seen) => {
        const line = `progress:stepped: ${count}`;
        if (written.some((text) => text.startsWith(line))) seen();
        else wanted = { line, seen };
      });
    const bus = new EventBus();
    const stop = showProgress(bus, plain, { intervalMs: 1 });
    const stuck = deferred();
    const held = task('progress:held', async () => stuck.promise);
    const steps = [deferred(), deferred(), deferred()];
    const stepped = task('progress:stepped', async (i: number) => steps[i]!.promise);
    const waiting = map([0], held, { events: bus, executor: asyncPool() }).then(() => {});
    const moving = map([0, 1, 2], stepped, { events: bus, executor: asyncPool(), concurrency: 1 });
    const done = moving.then(() => {});
    await lineFor('0/3');
    for (let i = 0; i < 3; i++) {
      steps[i]!.resolve();
      if (i < 2) await lineFor(`${i + 1}/3`);
    }
    await done;
    stuck.resolve();
    await waiting;
    stop();
    // The held map did not move: one line, not one per period.
    assert.equal(written.filter((line) => line.startsWith('progress:held: 0/1')).length, 1);
    assert.match(written.at(-1)!, /^tasks: 4 done/);
  });
});
