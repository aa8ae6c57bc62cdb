import { Option, type Command } from 'commander';
import { DbfastError } from '../../errors.js';
import { action } from '../action.js';
import { libraryWithPg } from '../pg-probe.js';
import { withConfirmation } from '../confirm.js';
import { age, confirmOption, lockTimeoutOption, name, positiveNumber, remoteOption, wholeNumber, yesOption } from '../options.js';

interface VerifyFlags {
  remote: string;
  backupId?: string;
  all?: boolean;
  restoreTest?: boolean;
}

interface RestoreFlags {
  remote: string;
  backupId: string;
  fromRemote?: string;
  confirm?: boolean;
  yes?: boolean;
  jobs?: number;
  lockTimeout?: number;
}

interface PruneFlags {
  remote: string;
  keepLast?: number;
  keep?: number;
  keepDays?: number;
  olderThan?: string;
  confirm?: boolean;
  yes?: boolean;
}

export function registerBackupCommands(program: Command): void {
  const backup = program.command('backup').description('back up, verify and restore remote databases');

  backup
    .command('create')
    .description('back up a remote')
    .addOption(remoteOption())
    .addOption(new Option('--compression <kind>', 'default: [backup] compression').choices(['zstd', 'lz4', 'gzip', 'none'] as const))
    .addOption(lockTimeoutOption('give up when a table stays locked by another session this long (default: wait, saying who holds it)'))
    .action(
      action<{ remote: string; compression?: 'zstd' | 'lz4' | 'gzip' | 'none'; lockTimeout?: number }>(async (ctx, _args, options) => {
        const [{ createBackup }, render] = await Promise.all([libraryWithPg(), import('../render/backup.js')]);
        const result = await createBackup({ config: await ctx.config(), remote: options.remote, compression: options.compression, lockTimeoutMs: options.lockTimeout, logger: ctx.out.logger() });
        const summary = result.summary;
        ctx.out.result({ backup: { ...summary, verified: true }, pruned: result.pruned }, () => render.renderBackupCreated(summary, result));
      }),
    );

  backup
    .command('list')
    .description('list backups, newest first')
    .addOption(remoteOption())
    .action(
      action<{ remote: string }>(async (ctx, _args, options) => {
        const [{ listBackups }, render] = await Promise.all([libraryWithPg(), import('../render/backup.js')]);
        const listing = await listBackups({ config: await ctx.config(), remote: options.remote, logger: ctx.out.logger() });
        const { backups } = listing;
        if (ctx.out.verbose) for (const warning of listing.warnings) ctx.out.warn(warning);
        else if (listing.warnings.length > 0) ctx.out.message(`${listing.warnings.length} thing(s) in ${listing.location} are not backups (--verbose lists them)`);
        ctx.out.result({ backups, warnings: listing.warnings }, (style) => render.renderBackupList(style, options.remote, listing.location, backups));
      }),
    );

  backup
    .command('verify')
    .description('check size, sha256 and archive readability (exit 3 when a backup is damaged)')
    .addOption(remoteOption())
    .addOption(new Option('--backup-id <id>', 'backup to verify (or "latest": the newest not known damaged)').argParser(name).conflicts('all'))
    .option('--all', 'verify every backup')
    .option('--restore-test', 'also restore into a scratch database and compare row counts')
    .action(
      action<VerifyFlags>(async (ctx, _args, options) => {
        if (!options.backupId && !options.all) {
          throw new DbfastError('USAGE', 'give either --backup-id ID or --all', { hint: 'dbfast backup verify --remote NAME --backup-id ID' });
        }
        const [{ verifyBackup }, render] = await Promise.all([libraryWithPg(), import('../render/backup.js')]);
        const results = await verifyBackup({ config: await ctx.config(), remote: options.remote, backupId: options.backupId, restoreTest: options.restoreTest === true, logger: ctx.out.logger() });
        const ok = results.every((r) => r.ok);
        ctx.out.result({ verify: { ok, results } }, (style) => render.renderVerify(style, results));
        return ok ? 0 : 3;
      }),
    );

  backup
    .command('restore')
    .description('verify a backup, restore it into a side database and swap it in')
    .addOption(remoteOption(true, 'remote whose database is replaced'))
    .requiredOption('--backup-id <id>', 'backup to restore (or "latest": the newest not known damaged)', name)
    .option('--from-remote <name>', "restore one of this remote's backups instead (e.g. production's into staging)", name)
    .addOption(confirmOption('confirm restoring over the live database without a prompt'))
    .addOption(yesOption())
    .option('-j, --jobs <n>', 'parallel pg_restore jobs (needs a temporary decompressed copy)', wholeNumber(1))
    .addOption(lockTimeoutOption())
    .action(
      action<RestoreFlags>(async (ctx, _args, options) => {
        const [config, { restoreBackup }, render] = await Promise.all([ctx.config(), libraryWithPg(), import('../render/backup.js')]);
        const result = await withConfirmation(ctx, { ...options, what: `Replace, with backup ${options.backupId},` }, (confirmed) =>
          restoreBackup({
            config,
            remote: options.remote,
            backupId: options.backupId,
            fromRemote: options.fromRemote,
            confirmed,
            jobs: options.jobs,
            lockTimeoutMs: options.lockTimeout,
            logger: ctx.out.logger(),
          }),
        );
        ctx.out.result({ restore: result }, () => render.renderRestore(result));
      }),
    );

  backup
    .command('prune')
    .description('delete old backups (lists only, without --confirm)')
    .addOption(remoteOption())
    .option('--keep-last <n>', 'keep the newest N restorable backups (default: keep_last)', wholeNumber(1))
    .option('--keep <n>', 'the old name of --keep-last', wholeNumber(1))
    .option('--keep-days <d>', 'keep every backup younger than D days (default: keep_days)', positiveNumber)
    .option('--older-than <age>', 'the same as --keep-days, as an age: 30d, 12h, 2w', age)
    .addOption(confirmOption('really delete'))
    .addOption(yesOption())
    .action(
      action<PruneFlags>(async (ctx, _args, options) => {
        const [{ pruneBackups }, render] = await Promise.all([libraryWithPg(), import('../render/backup.js')]);
        const result = await pruneBackups({
          config: await ctx.config(),
          remote: options.remote,
          logger: ctx.out.logger(),
          keep: options.keepLast ?? options.keep,
          keepDays: options.keepDays,
          olderThan: options.olderThan,
          confirm: options.confirm === true || options.yes === true,
        });
        const data = {
          prune: {
            dryRun: result.dryRun,
            delete: result.plan.remove.map((r) => ({ id: r.backup.id, createdAt: r.backup.createdAt, reason: r.reason })),
            protected: result.plan.protected.map((r) => ({ id: r.backup.id, reason: r.reason })),
            kept: result.plan.keep.map((b) => b.id),
            deleted: result.deleted,
          },
        };
        ctx.out.result(data, () => render.renderPrune(result));
      }),
    );

  backup
    .command('check')
    .description('exit 3 when the newest verified backup is older than --max-age (or there is none): for cron and alerting')
    .addOption(remoteOption())
    .requiredOption('--max-age <age>', 'e.g. 24h, 2d, 90m', age)
    .action(
      action<{ remote: string; maxAge: string }>(async (ctx, _args, options) => {
        const [{ checkBackups }, render] = await Promise.all([libraryWithPg(), import('../render/backup.js')]);
        const result = await checkBackups({ config: await ctx.config(), remote: options.remote, maxAge: options.maxAge, logger: ctx.out.logger() });
        ctx.out.result({ check: result }, (style) => render.renderBackupCheck(style, result, options.maxAge));
        return result.ok ? 0 : 3;
      }),
    );
}
