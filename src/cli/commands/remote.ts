import type { Command } from 'commander';
import { action, notBuilt } from '../action.js';

export function registerRemoteCommands(program: Command): void {
  const remote = program.command('remote').description('remote databases you deploy to');
  remote
    .command('add')
    .description('add a remote to dbfast.toml (keeps your comments)')
    .requiredOption('--name <name>', 'remote name')
    .requiredOption('--url <url>', 'postgres:// URL (put the password in --password-env, not here)')
    .requiredOption('--env <environment>', 'environment deployed to it')
    .option('--password-env <var>', 'environment variable that holds the password')
    .option('--allow-destructive', 'allow replacing the database on deploy')
    .option('--no-backup', 'do not back up before deploys (refused for production)')
    .option('--require-confirmation', 'deploys need --confirm')
    .action(action(notBuilt('remote add')));
  remote.command('list').description('list remotes (passwords masked)').action(action(notBuilt('remote list')));
  remote.command('remove <name>').description('remove a remote from dbfast.toml').action(action(notBuilt('remote remove')));
  remote
    .command('test <name>')
    .description('connect and report version, privileges, tools and latency')
    .action(action(notBuilt('remote test')));
}
