/** The `weft` command. Each verb lives in a file of its own. */
import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { Command, CommanderError } from 'commander';
import { isWeftError } from '../core/errors.ts';
import { errorLine } from './error-line.ts';
import { CommandFailure } from './failure.ts';
import { resumeRun } from './resume.ts';
import { runFile } from './run.ts';
import { listRuns } from './runs.ts';
import { showRun } from './show.ts';
import { printable } from './text.ts';
import type { UiOptions } from './ui.ts';
import type { WorkerCommandOptions } from './worker.ts';

// The same relative path from src/cli/ and from dist/cli/.
const { version } = JSON.parse(
  readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
) as { version: string };

const program = new Command()
  .name('weft')
  .description('Run parallel workflows: fan work out over items, grids and dependency graphs.')
  .version(version, '-V, --version', 'print the version of weft')
  .option('--stack', 'print stack traces of errors (also WEFT_DEBUG=1)')
  .addHelpText(
    'after',
    `
Environment:
  WEFT_STORE     the store when --store is not given (default: sqlite:.weft/weft.db)
  WEFT_EXECUTOR  the executor when --executor is not given (default: asyncPool)
  WEFT_WORKERS   the number of workers when --workers is not given
  WEFT_REDIS_URL the Redis of --executor bullmq and weft worker (default: redis://127.0.0.1:6379)
  WEFT_QUEUE     the queue of --executor bullmq and weft worker (default: weft)
  WEFT_DEBUG=1   print stack traces of errors, as --stack does`,
  )
  .showHelpAfterError()
  // Commander's own errors name what was typed (an unknown option, an excess argument).
  .configureOutput({
    outputError: (text, write) => write(text.split('\n').map(printable).join('\n')),
  })
  .exitOverride();

const storeOption = [
  '-s, --store <url>',
  'where runs are recorded: sqlite:<path>, postgres://…, memory: (default: WEFT_STORE or sqlite:.weft/weft.db)',
] as const;
const executorOption = [
  '-e, --executor <name>',
  'inline, asyncPool, threads, processes or bullmq (default: WEFT_EXECUTOR or asyncPool)',
] as const;
const workersOption = [
  '-w, --workers <n>',
  'worker threads or processes, at most 16 per core or 64, whichever is more (default: WEFT_WORKERS or the number of cores)',
] as const;

program
  .command('run')
  .description("run a module's default export (a function of the run context) as a recorded run")
  .argument('<file>', 'a .ts or .js module; TypeScript runs without a build step')
  .argument(
    '[args...]',
    'arguments passed to the job as ctx.args; put -- before them when one starts with -, e.g. weft run job.ts -- --limit 5',
  )
  .option(...executorOption)
  .option(...workersOption)
  .option(...storeOption)
  .option(
    '--run-id <id>',
    'id of the run (default: a new one); an existing id continues that run, if it ran the same file and arguments',
  )
  .option(
    '--force',
    'with --run-id: continue the run even if it ran another file or arguments, or if a live process owns it (taking it over, after asking on a terminal)',
  )
  .option('--no-progress', 'do not show live progress')
  .option(
    '--ui',
    "serve the web UI while the run goes and print the address of the run's page (no browser is opened)",
  )
  .option('-p, --port <n>', 'the port of --ui, 0 for any free one (default: 4600)')
  .showHelpAfterError(
    '(job arguments that start with - go after --: weft run job.ts -- --limit 5; see weft run --help)',
  )
  .action((file: string, args: string[], options) => runFile(file, args, options));

program
  .command('runs')
  .description('list the recorded runs, newest first')
  .option(...storeOption)
  .option('-n, --limit <n>', 'how many runs', '20')
  .option('--json', 'print the runs as JSON')
  .action((options) => listRuns(options));

program
  .command('show')
  .description('show a run: status, fan-outs, failed tasks with their errors, slowest tasks')
  .argument('<run>', 'the run id (see weft runs)')
  .option(...storeOption)
  .option('-a, --all', 'list every task')
  .option('--json', 'print the run and its tasks, with their outputs, as JSON')
  .action((runId: string, options) => showRun(runId, options));

program
  .command('resume')
  .description('run a stopped or failed run again: finished tasks are not executed again')
  .argument('<run>', 'the run id (see weft runs)')
  .option(...executorOption)
  .option(...workersOption)
  .option(...storeOption)
  .option(
    '--force',
    'take the run over from the process that owns it, which stops (asks first on a terminal)',
  )
  .option('--no-progress', 'do not show live progress')
  .action((runId: string, options) => resumeRun(runId, options));

program
  .command('ui')
  .description(
    'serve the web UI over the recorded runs: runs, their graphs, progress, timelines, states and errors, live while a run goes',
  )
  .option(...storeOption)
  .option('-p, --port <n>', 'the port to serve on, 0 for any free one (default: 4600)')
  .option(
    '--host <address>',
    'the address to serve on; any other than 127.0.0.1 (this machine) lets other machines read the runs (default: 127.0.0.1)',
  )
  // Loaded when asked for, as `weft worker` is: other verbs load neither the server nor BullMQ.
  .action(async (options: UiOptions) => (await import('./ui.ts')).serveUi(options));

program
  .command('worker')
  .description(
    'run the tasks of a bullmq queue on this machine, for runs started with --executor bullmq (in the project folder)',
  )
  .option(
    '-r, --redis <url>',
    'the Redis server (default: WEFT_REDIS_URL or redis://127.0.0.1:6379)',
  )
  .option('-q, --queue <name>', 'the queue to serve (default: WEFT_QUEUE or weft)')
  .option(
    '-c, --concurrency <n>',
    'jobs run at once (default: 16, or twice the workers on threads or processes)',
  )
  .option(
    '-e, --executor <name>',
    'where the jobs run here: asyncPool, threads, processes or inline (default: asyncPool)',
  )
  .option(
    '-w, --workers <n>',
    'worker threads or processes of --executor threads or processes (default: the number of cores)',
  )
  .option(
    '-s, --store <url>',
    'the store large values travel through: the PostgreSQL store the runs use (default: WEFT_STORE, else none)',
  )
  .option(
    '--lock-ms <n>',
    "how long a job's lock lasts unrenewed: about how soon other workers take over the jobs of one that died (default: 5000)",
  )
  .option(
    '--report-every <seconds>',
    'seconds between two lines of what it did, when not on a terminal (default: 60)',
  )
  .action(async (options: WorkerCommandOptions) =>
    (await import('./worker.ts')).runWorker(options),
  );

try {
  await program.parseAsync(process.argv);
} catch (caught) {
  if (caught instanceof CommanderError) {
    process.exitCode = caught.exitCode;
  } else {
    const { error, after } =
      caught instanceof CommandFailure ? caught : { error: caught, after: [] as string[] };
    if (error !== undefined) report(error);
    for (const line of after) process.stderr.write(`weft: ${printable(line)}\n`);
    if (process.exitCode !== 130) process.exitCode = 1;
  }
}

/** One line naming the error; all of it, its stack and causes with --stack or WEFT_DEBUG=1. */
function report(error: unknown): void {
  const showStack = program.opts().stack === true || process.env.WEFT_DEBUG === '1';
  const { line, cut } = errorLine(error);
  const label = isWeftError(error) ? (error as Error).name : 'Error';
  process.stderr.write(`weft: ${printable(label)}: ${line}\n`);
  // inspect() shows the whole message, the stack and the chain of causes.
  if (showStack) process.stderr.write(`${inspect(error).split('\n').map(printable).join('\n')}\n`);
  else if (!isWeftError(error)) {
    process.stderr.write(
      `(run with --stack for the ${cut ? 'whole message and the ' : ''}stack trace)\n`,
    );
  } else if (cut) process.stderr.write('(run with --stack for the whole message)\n');
}
