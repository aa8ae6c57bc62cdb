import type { Command } from 'commander';
import { action, notBuilt } from '../action.js';

export function registerBackupCommands(program: Command): void {
  const backup = program.command('backup').description('back up, verify and restore remote databases');
  backup.command('create').description('back up a remote').requiredOption('--remote <name>', 'remote').action(action(notBuilt('backup create')));
  backup.command('list').description('list backups, newest first').requiredOption('--remote <name>', 'remote').action(action(notBuilt('backup list')));
  backup
    .command('verify')
    .description('check checksums and archive readability')
    .requiredOption('--remote <name>', 'remote')
    .option('--backup-id <id>', 'backup to verify')
    .option('--all', 'verify every backup')
    .option('--restore-test', 'also restore into a scratch database and compare row counts')
    .action(action(notBuilt('backup verify')));
  backup
    .command('restore')
    .description('restore a backup into a side database and swap it in')
    .requiredOption('--remote <name>', 'remote')
    .requiredOption('--backup-id <id>', 'backup to restore')
    .option('--confirm', 'confirm restoring over the live database')
    .action(action(notBuilt('backup restore')));
  backup
    .command('prune')
    .description('delete old backups (lists only, without --confirm)')
    .requiredOption('--remote <name>', 'remote')
    .option('--keep <n>', 'keep the newest N')
    .option('--older-than <age>', 'delete backups older than this, e.g. 30d')
    .option('--confirm', 'really delete')
    .action(action(notBuilt('backup prune')));
}
