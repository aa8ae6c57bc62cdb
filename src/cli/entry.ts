import { runHandler } from './action.js';
import { seedAction } from './commands/seed-action.js';
import { parseFastSeed } from './fast-seed.js';
import { Output } from './output.js';
import { installSignalHandlers } from './signals.js';

/**
 * The CLI's entry (bundled as dist/cli-bundle/main.js). `dbfast seed` in its everyday forms runs
 * without loading commander or any other command; every other command line, help and usage
 * errors included, goes to the commander program in ./main.js, loaded on demand.
 */
export async function main(argv: string[]): Promise<void> {
  if (argv[2] === '__background') {
    // The detached worker dbfast starts for clean-up off the critical path (local/background.ts).
    const { runBackgroundWorker } = await import('../index.js');
    process.exitCode = await runBackgroundWorker();
    return;
  }
  const fast = parseFastSeed(argv.slice(2));
  if (!fast) {
    const program = await import('./main.js');
    return program.main(argv);
  }
  installSignalHandlers(new Output({ json: fast.globals.json === true, color: fast.globals.color !== false }));
  await runHandler(seedAction, fast.globals, [], fast.options);
}
