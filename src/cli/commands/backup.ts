import type { Command } from 'commander';
import { DbfastError } from '../../errors.js';
import { confirmedFor } from '../confirm.js';
import { table } from '../table.js';
import { action, type CommandContext } from '../action.js';
import { formatBytes } from '../output.js';

// The library is imported inside each handler: start-up stays fast for other commands.
async function scopeFor(ctx: CommandContext, options: Record<string, unknown>) {
  const { backupScope } = await import('../../backup/scope.js');
  return backupScope(await ctx.config(), String(options.remote), { logger: ctx.out.logger() });
}


function positiveInt(value: unknown, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new DbfastError('USAGE', `${flag} must be a whole number of at least 1 (got "${String(value)}")`);
  return n;
}

function positiveNumber(value: unknown, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new DbfastError('USAGE', `${flag} must be a number above 0 (got "${String(value)}")`);
  return n;
}

export function registerBackupCommands(program: Command): void {
  const backup = program.command('backup').description('back up, verify and restore remote databases');

  backup
    .command('create')
    .description('back up a remote')
    .requiredOption('--remote <name>', 'remote')
    .option('--compression <kind>', 'zstd | lz4 | gzip | none (default: [backup] compression)')
    .action(
      action(async (ctx, _args, options) => {
        const [{ createBackup }, { summarize }] = await Promise.all([import('../../backup/create.js'), import('../../backup/list.js')]);
        const { COMPRESSIONS } = await import('../../archive/compression.js');
        const compression = options.compression as string | undefined;
        if (compression !== undefined && !(COMPRESSIONS as readonly string[]).includes(compression)) {
          throw new DbfastError('USAGE', `--compression must be one of ${COMPRESSIONS.join(', ')} (got "${compression}")`);
        }
        const scope = await scopeFor(ctx, options);
        const result = await createBackup(scope, compression ? { compression: compression as (typeof COMPRESSIONS)[number] } : {});
        const summary = summarize(scope, result.backup);
        ctx.out.result({ backup: { ...summary, verified: true }, pruned: result.pruned }, () =>
          [
            `backup ${summary.id} of "${summary.database}" (remote ${summary.remote})`,
            `  file    ${summary.file}`,
            `  size    ${formatBytes(summary.sizeBytes)} (${summary.compression}; ${formatBytes(result.backup.rawBytes)} uncompressed)`,
            `  sha256  ${summary.sha256}`,
            `  tables  ${result.backup.tables.length}, ${result.backup.tables.reduce((n, t) => n + t.rows, 0)} rows`,
            `  checked read back from the store: sha256, size and every archive entry`,
            ...(result.pruned.length > 0 ? [`  retention deleted ${result.pruned.length} older backup(s): ${result.pruned.join(', ')}`] : []),
          ].join('\n'),
        );
      }),
    );

  backup
    .command('list')
    .description('list backups, newest first')
    .requiredOption('--remote <name>', 'remote')
    .action(
      action(async (ctx, _args, options) => {
        const [{ listBackups, summarize }, { lastCheck }] = await Promise.all([import('../../backup/list.js'), import('../../backup/types.js')]);
        const scope = await scopeFor(ctx, options);
        const listing = await listBackups(scope);
        const backups = listing.backups.map((info) => ({
          ...summarize(scope, info),
          health: listing.health[info.id] ?? 'unverified',
          verified: listing.health[info.id] === 'verified',
          verifiedAt: info.verified?.at ?? null,
          verifiedByRestore: info.verifiedByRestore ? { at: info.verifiedByRestore.at, ok: info.verifiedByRestore.ok } : null,
          problem: listing.problems[info.id] ?? lastCheck(info)?.problems[0] ?? null,
        }));
        if (ctx.out.verbose) for (const warning of listing.warnings) ctx.out.warn(warning);
        else if (listing.warnings.length > 0) ctx.out.message(`${listing.warnings.length} thing(s) in ${scope.storage.location} are not backups (--verbose lists them)`);
        ctx.out.result({ backups, warnings: listing.warnings }, () => {
          if (backups.length === 0) return `no backups for remote "${scope.remote}" in ${scope.storage.location}`;
          const verifiedText = (b: (typeof backups)[number]): string =>
            b.health === 'damaged' ? 'DAMAGED' : b.health === 'unverified' ? '-' : b.verifiedByRestore?.ok && b.verifiedByRestore.at >= (b.verifiedAt ?? '') ? 'restore-tested' : 'yes';
          return table(
            ['ID', 'CREATED', 'SIZE', 'COMPRESSION', 'DATABASE', 'VERIFIED'],
            backups.map((b) => [b.id, b.createdAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'), formatBytes(b.sizeBytes), b.compression, b.database, verifiedText(b)]),
          );
        });
      }),
    );

  backup
    .command('verify')
    .description('check size, sha256 and archive readability (exit 3 when a backup is damaged)')
    .requiredOption('--remote <name>', 'remote')
    .option('--backup-id <id>', 'backup to verify (or "latest": the newest not known damaged)')
    .option('--all', 'verify every backup')
    .option('--restore-test', 'also restore into a scratch database and compare row counts')
    .action(
      action(async (ctx, _args, options) => {
        if (!options.backupId === !options.all) {
          throw new DbfastError('USAGE', 'give either --backup-id ID or --all', { hint: 'dbfast backup verify --remote NAME --backup-id ID' });
        }
        const { verifyBackup, verifyAllBackups } = await import('../../backup/verify.js');
        const scope = await scopeFor(ctx, options);
        const verifyOptions = { restoreTest: options.restoreTest === true };
        const results = options.all ? await verifyAllBackups(scope, verifyOptions) : [await verifyBackup(scope, String(options.backupId), verifyOptions)];
        const ok = results.every((r) => r.ok);
        ctx.out.result({ verify: { ok, results } }, () =>
          results
            .map((r) => {
              const how = r.restoreTest ? `checksum, readability and a restore test (${r.restoreTest.server} server)` : 'checksum and readability';
              return r.ok ? `ok      ${r.id}: ${how}` : `FAILED  ${r.id}:\n${r.problems.map((p) => `  - ${p}`).join('\n')}`;
            })
            .join('\n'),
        );
        return ok ? 0 : 3;
      }),
    );

  backup
    .command('restore')
    .description('verify a backup, restore it into a side database and swap it in')
    .requiredOption('--remote <name>', 'remote')
    .requiredOption('--backup-id <id>', 'backup to restore (or "latest": the newest not known damaged)')
    .option('--confirm', 'confirm restoring over the live database')
    .option('--jobs <n>', 'parallel pg_restore jobs (needs a temporary decompressed copy)')
    .action(
      action(async (ctx, _args, options) => {
        const { restoreBackup, restoreNeedsConfirmation } = await import('../../backup/restore.js');
        const scope = await scopeFor(ctx, options);
        const jobs = positiveInt(options.jobs, '--jobs');
        const id = String(options.backupId);
        const ok = !restoreNeedsConfirmation(scope) || (await confirmedFor(ctx, scope.remote, `Restore backup ${id} over`, options));
        if (!ok) {
          throw new DbfastError('CONFIRMATION_REQUIRED', `restoring over remote "${scope.remote}" needs confirmation; nothing was changed`, {
            hint: `Run again with --confirm: dbfast backup restore --remote ${scope.remote} --backup-id ${id} --confirm`,
          });
        }
        const result = await restoreBackup(scope, id, { confirmed: true, ...(jobs ? { jobs } : {}) });
        ctx.out.result({ restore: result }, () =>
          [
            `restored backup ${result.id} into "${result.database}" (${result.mode === 'swap' ? 'side database swapped in' : 'in place, one transaction'}; ${result.tables} tables checked)`,
            result.previous ? `the replaced database is kept as "${result.previous}"` : '',
          ]
            .filter(Boolean)
            .join('\n'),
        );
      }),
    );

  backup
    .command('prune')
    .description('delete old backups (lists only, without --confirm)')
    .requiredOption('--remote <name>', 'remote')
    .option('--keep-last <n>', 'keep the newest N restorable backups (default: keep_last)')
    .option('--keep <n>', 'the old name of --keep-last')
    .option('--keep-days <d>', 'keep every backup younger than D days (default: keep_days)')
    .option('--older-than <age>', 'the same as --keep-days, as an age: 30d, 12h, 2w')
    .option('--confirm', 'really delete')
    .action(
      action(async (ctx, _args, options) => {
        const { pruneBackups } = await import('../../backup/prune.js');
        const scope = await scopeFor(ctx, options);
        const keep = positiveInt(options.keepLast ?? options.keep, options.keepLast !== undefined ? '--keep-last' : '--keep');
        const keepDays = positiveNumber(options.keepDays, '--keep-days');
        const result = await pruneBackups(scope, {
          keep,
          keepDays,
          olderThan: options.olderThan as string | undefined,
          confirm: options.confirm === true,
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
        ctx.out.result(data, () => {
          const lines: string[] = [];
          const verb = result.dryRun ? 'would delete' : 'deleted';
          for (const r of result.plan.remove) lines.push(`${verb}  ${r.backup.id}  (${r.reason})`);
          for (const r of result.plan.protected) lines.push(`kept          ${r.backup.id}  (${r.reason})`);
          if (result.plan.remove.length === 0) lines.push('nothing to delete');
          else if (result.dryRun) lines.push('dry run: nothing was deleted; add --confirm to delete');
          return lines.join('\n');
        });
      }),
    );

  backup
    .command('check')
    .description('exit 3 when the newest verified backup is older than --max-age (or there is none): for cron and alerting')
    .requiredOption('--remote <name>', 'remote')
    .requiredOption('--max-age <age>', 'e.g. 24h, 2d, 90m')
    .action(
      action(async (ctx, _args, options) => {
        const { checkBackups } = await import('../../backup/check.js');
        const scope = await scopeFor(ctx, options);
        const result = await checkBackups(scope, { maxAge: String(options.maxAge) });
        ctx.out.result({ check: result }, () => {
          const newest = result.newestVerified;
          const age = newest ? `${(newest.ageMs / 3_600_000).toFixed(1)} h old` : '';
          return result.ok
            ? `ok      remote "${result.remote}": newest verified backup ${newest?.id} is ${age} (max ${String(options.maxAge)})`
            : `STALE   remote "${result.remote}": ${result.problem}${newest ? ` (${age})` : ''}; ${result.backups} backup(s) in ${result.location}`;
        });
        return result.ok ? 0 : 3;
      }),
    );
}
