import type { Command } from 'commander';
import { action, notBuilt } from '../action.js';

export function registerDeployCommands(program: Command): void {
  program
    .command('deploy')
    .description("deploy an environment's template to a remote: backup, side restore, validate, swap")
    .argument('[remote]', 'remote name (same as --remote)')
    .option('-r, --remote <name>', 'remote')
    .option('-e, --env <name>', "environment (must match the remote's)")
    .option('--confirm', 'confirm a deploy that needs it (production)')
    .option('-y, --yes', 'same as --confirm')
    .option('--dry-run', 'print the plan and change nothing')
    .option('--skip-backup', 'no backup first (refused for production)')
    .option('--mode <mode>', 'replace or migrate')
    .option('--lock-timeout <seconds>', 'give up when another operation holds the lock this long')
    .action(action(notBuilt('deploy')));
  program
    .command('rollback')
    .description('swap back to the previous database, or restore a backup')
    .requiredOption('-r, --remote <name>', 'remote')
    .option('--to <target>', 'previous (default) or a backup id', 'previous')
    .option('--confirm', 'confirm')
    .action(action(notBuilt('rollback')));
  program
    .command('history')
    .description('deploys recorded on a remote')
    .requiredOption('-r, --remote <name>', 'remote')
    .option('--limit <n>', 'how many', '20')
    .action(action(notBuilt('history')));
  program
    .command('stats')
    .description('deploy statistics: success rate, durations')
    .option('-r, --remote <name>', 'remote')
    .option('--days <n>', 'window in days', '30')
    .action(action(notBuilt('stats')));
}
