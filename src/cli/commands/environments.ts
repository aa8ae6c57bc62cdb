import type { Command } from 'commander';
import { action, notBuilt } from '../action.js';

export function registerEnvironmentCommands(program: Command): void {
  const environments = program.command('environments').description('list environments and the files each one gets');
  environments
    .command('list', { isDefault: true })
    .description('list environments with their file counts')
    .action(action(notBuilt('environments')));
  environments
    .command('show <name>')
    .description('list the files of an environment in the order they run')
    .action(action(notBuilt('environments show')));
  program
    .command('validate-env')
    .description('check an environment: missing folders, no files, production guard')
    .option('-e, --env <name>', 'environment to check (default: all)')
    .action(action(notBuilt('validate-env')));
}
