/** The `weft` command. Each verb lives in a file of its own. */
import { inspect } from 'node:util';
import { Command, CommanderError } from 'commander';
import { isWeftError } from '../core/errors.ts';
import { runFile } from './run.ts';

const program = new Command()
  .name('weft')
  .description('Run parallel workflows: fan work out over items, grids and dependency graphs.')
  .option('--stack', 'print stack traces of errors')
  .showHelpAfterError()
  .exitOverride();

program
  .command('run')
  .description("run a module's default export (a function of the run context)")
  .argument('<file>', 'a .ts or .js module; TypeScript runs without a build step')
  .argument('[args...]', 'arguments passed to the job as ctx.args')
  .option(
    '-e, --executor <name>',
    'inline, asyncPool, threads or processes (default: WEFT_EXECUTOR or asyncPool)',
  )
  .option(
    '-w, --workers <n>',
    'worker threads or processes (default: WEFT_WORKERS or the number of cores)',
  )
  .option('--run-id <id>', 'id of the run; keys of its tasks start with it')
  .option('--no-progress', 'do not show live progress')
  .action((file: string, args: string[], options) => runFile(file, args, options));

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode;
  } else {
    const showStack = program.opts().stack === true || process.env.WEFT_DEBUG === '1';
    const message = error instanceof Error ? error.message : String(error);
    const label = isWeftError(error) ? (error as Error).name : 'Error';
    process.stderr.write(`weft: ${label}: ${message}\n`);
    // inspect() shows the stack and the chain of causes.
    if (showStack) process.stderr.write(`${inspect(error)}\n`);
    else if (!isWeftError(error)) process.stderr.write('(run with --stack for the stack trace)\n');
    if (process.exitCode !== 130) process.exitCode = 1;
  }
}
