import type { Command } from 'commander';
import { action, notBuilt } from '../action.js';

export function registerInitCommand(program: Command): void {
  program
    .command('init')
    .description('write a commented dbfast.toml for the SQL folders found in DIR')
    .option('--repo-dir <dir>', 'folder that holds the numbered SQL folders', '.')
    .option('--template-name <name>', 'base name of the template databases')
    .option('--database-url <url>', 'local PostgreSQL server URL')
    .option('--force', 'overwrite an existing dbfast.toml')
    .action(action(notBuilt('init')));
}
