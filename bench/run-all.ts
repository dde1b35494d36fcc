/**
 * Runs every benchmark, one scenario per file, each in its own process so that one
 * cannot warm or pollute another. Benchmarks never gate CI; their figures go to
 * bench/README.md.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const scenarios = [
  'recording.ts',
  'resume.ts',
  'resume-memory.ts',
  'resume-1m.ts',
  'map-throughput.ts',
  'stream-memory.ts',
  'executors.ts',
  'dag.ts',
  'dag-scale.ts',
  'pool-libraries.ts',
  'app-mapstates.ts',
  'compiler.ts',
  'compiler-parse.ts',
  'flow-foreach.ts',
  'flow-rerun.ts',
  'batch-transform.ts',
  'batch-tiny.ts',
  'compose-merge.ts',
  'compose-composite.ts',
  'bullmq.ts',
  'ui.ts',
];
const only = process.argv.slice(2);
for (const file of scenarios) {
  if (only.length > 0 && !only.some((name) => file.startsWith(name))) continue;
  console.log(`\n## ${file}`);
  const result = spawnSync(
    process.execPath,
    [...process.execArgv, fileURLToPath(new URL(file, import.meta.url))],
    {
      stdio: 'inherit',
    },
  );
  if (result.status !== 0) process.exitCode = 1;
}
