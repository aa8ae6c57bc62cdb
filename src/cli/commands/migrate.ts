import type { Command } from 'commander';
import { action, notBuilt } from '../action.js';

export function registerMigrateCommands(program: Command): void {
  const migrate = program.command('migrate').description('migrations on live databases');
  migrate.command('status').description('applied, pending and drifted migrations').requiredOption('-r, --remote <name>', 'remote').option('--check', 'exit 3 when anything is pending or drifted').action(action(notBuilt('migrate status')));
  migrate.command('apply').description('apply pending migrations').requiredOption('-r, --remote <name>', 'remote').action(action(notBuilt('migrate apply')));
  migrate.command('mark-applied <id>').description('record a migration as applied without running it').requiredOption('-r, --remote <name>', 'remote').action(action(notBuilt('migrate mark-applied')));
  migrate.command('history').description('migrations applied on a remote').requiredOption('-r, --remote <name>', 'remote').action(action(notBuilt('migrate history')));
  migrate.command('verify').description("compare the remote's schema with the environment's template").requiredOption('-r, --remote <name>', 'remote').option('-e, --env <name>', 'environment').action(action(notBuilt('migrate verify')));
}
