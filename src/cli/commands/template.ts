import type { Command } from 'commander';
import { action, notBuilt } from '../action.js';

export function registerTemplateCommands(program: Command): void {
  program
    .command('build')
    .description("build (or refresh) an environment's template database")
    .option('-e, --env <name>', 'environment')
    .option('--force', 'rebuild even when the template is fresh')
    .option('--runner <runner>', 'inprocess (default) or psql')
    .action(action(notBuilt('build')));
  program
    .command('seed')
    .description('create a database from the template in milliseconds (builds it first when stale)')
    .requiredOption('-o, --output <name>', 'name of the database to create')
    .option('-e, --env <name>', 'environment (default: local, or the only one)')
    .option('--force', 'replace an existing database of that name')
    .option('--rebuild', 'rebuild the template first even when fresh')
    .action(action(notBuilt('seed')));
  program
    .command('status')
    .description("each environment's template: missing, fresh or stale, and what changed")
    .option('-e, --env <name>', 'only this environment')
    .option('--remote <name>', 'what is deployed on a remote')
    .option('--check', 'exit 3 when anything is stale')
    .action(action(notBuilt('status')));
  program
    .command('list')
    .description('databases dbfast made: templates and clones')
    .action(action(notBuilt('list')));
  program
    .command('drop')
    .description('drop databases dbfast made (never others)')
    .argument('[names...]', 'databases to drop')
    .option('--all-clones', 'drop every clone dbfast made')
    .action(action(notBuilt('drop')));
}
