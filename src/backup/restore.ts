import { registerCleanup } from '../cleanup.js';
import { reconcileMigrationsSql } from '../history/migrations.js';
import { carryOverDbfastSchema } from '../history/schema.js';
import { restoreArchive } from '../archive/restore.js';
import { restoreInTransaction } from '../archive/transaction-restore.js';
import { toolInfo } from '../pg/tools.js';
import { DbfastError, errorMessage } from '../errors.js';
import { withClient } from '../pg/client.js';
import { tryAdvisoryLock } from '../pg/lock.js';
import { databaseName, withDatabase } from '../pg/target.js';
import { connectMaintenance, createDatabaseLike, databaseFacts, rolePrivileges } from '../pg/admin.js';
import { copyDatabaseProperties } from '../pg/db-properties.js';
import { countCheckSql, dropSchemasSql } from '../replace/in-place-sql.js';
import type { BackupScope } from './scope.js';
import { restoreInput } from './restore-input.js';
import { findBackup } from './store.js';
import { databaseLockKey, dropDatabaseIfExists, endSessions, swapIn, swapNames } from '../replace/swap.js';
import { compareCounts, countExpectedTables } from '../validate/tables.js';
import type { BackupInfo } from './types.js';
import { checkChecksum } from './verify.js';

export interface RestoreBackupOptions {
  /** Required for remotes that need confirmation (production, require_confirmation). */
  confirmed?: boolean;
  /** The caller (a deploy falling back to its backup) already holds the database's advisory lock. */
  lockHeld?: boolean;
  /** pg_restore jobs for the side-database restore (default 1: streams, no temp file). */
  jobs?: number;
  signal?: AbortSignal;
}

export interface RestoreBackupResult {
  id: string;
  database: string;
  /** swap: restored into a side database, then renamed in. in-place: one transaction in the live database. */
  mode: 'swap' | 'in-place';
  /** Name the replaced database was kept under, or null. */
  previous: string | null;
  sessionsEnded: number;
  tables: number;
  durationMs: number;
}

/** True when the remote needs an explicit confirmation before a restore. */
export function restoreNeedsConfirmation(scope: BackupScope): boolean {
  return scope.requireConfirmation;
}

/**
 * Restores a backup over the remote's database. Its size and sha256 are checked first (a
 * damaged file is refused before anything is touched). With CREATEDB it is restored into
 * `<db>__dbfast_restore`, its row counts checked, and swapped in with both renames in one
 * transaction, the old database kept as `<db>__dbfast_prev`. Without CREATEDB it is
 * restored in place in one transaction (the backup's schemas dropped, the archive restored
 * with --clean, the row counts checked): any failure rolls back and leaves the database as
 * it was.
 */
/** Restores a backup (an id, or `latest`: the newest backup not known damaged) over the remote's database; see below. */
export async function restoreBackup(scope: BackupScope, id: string, options: RestoreBackupOptions = {}): Promise<RestoreBackupResult> {
  const started = Date.now();
  const logger = scope.logger;
  const info = await findBackup(scope.storage, scope.remote, id);
  if (id !== info.id) logger.info(`${id}: backup ${info.id} of ${info.createdAt}`);
  if (restoreNeedsConfirmation(scope) && !options.confirmed) {
    throw new DbfastError('CONFIRMATION_REQUIRED', `restoring over remote "${scope.remote}" needs confirmation`, {
      hint: 'Pass --confirm (or answer yes on a terminal).',
    });
  }
  const live = databaseName(scope.target);
  if (info.database !== live) logger.warn(`backup ${info.id} is of database "${info.database}"; restoring it into "${live}"`);
  await checkRestoreTool(scope, info);

  // The checksum proves the file is the archive read back in full when it was created;
  // the restore below reads every entry again, into a side database or one transaction.
  logger.info(`checking backup ${info.id} (size, sha256)`);
  const integrity = await checkChecksum(scope, info, options.signal);
  if (!integrity.ok) {
    throw new DbfastError('BACKUP_CORRUPT', `backup ${info.id} failed verification; nothing was restored:\n  ${integrity.problems.join('\n  ')}`, {
      hint: `Restore another backup (\`dbfast backup list --remote ${scope.remote}\`).`,
      details: { problems: integrity.problems } });
  }

  const admin = await connectMaintenance(scope.target, [live]);
  try {
    if (!options.lockHeld && !(await tryAdvisoryLock(admin.client, databaseLockKey(live)))) {
      throw new DbfastError('DATABASE_BUSY', `another dbfast process is restoring or deploying database "${live}"`, {
        hint: 'Wait for it to finish, then run the command again.',
      });
    }
    const privileges = await rolePrivileges(admin.client);
    const facts = await databaseFacts(admin.client, live);
    const canSwap = privileges.createdb && (!facts || facts.ownedByUs || privileges.superuser);
    if (canSwap) {
      const names = swapNames(live);
      const sideTarget = withDatabase(scope.target, names.side);
      await dropDatabaseIfExists(admin.client, names.side);
      await createDatabaseLike(admin.client, names.side, facts, privileges.superuser);
      const unregister = registerCleanup(() => dropDatabaseIfExists(admin.client, names.side).then(() => undefined));
      let swapped = false;
      try {
        logger.info(`restoring into side database "${names.side}"`);
        const jobs = options.jobs ?? 1;
        const { input, tempDir } = await restoreInput(scope, info, jobs, options.signal);
        await restoreArchive(sideTarget, input, {
          compression: info.compression,
          jobs,
          ...(tempDir ? { tempDir } : {}),
          noOwner: scope.noOwner,
          noPrivileges: scope.noPrivileges,
          pgBinDir: scope.pgBinDir,
          logger,
          ...(options.signal ? { signal: options.signal } : {}),
        });
        await checkCounts(info, sideTarget, `side database "${names.side}"`);
        if (facts) {
          // History and migration records stay with the live database, whatever the backup holds.
          await withClient(scope.target, (from) => withClient(sideTarget, (to) => carryOverDbfastSchema(from, to)));
          if (info.migrations) await withClient(sideTarget, (client) => client.query(reconcileMigrationsSql(info.migrations ?? [], info.id)));
          await copyDatabaseProperties(admin.client, live, names.side, logger);
        }
        logger.info(`swapping "${names.side}" in as "${live}"`);
        const swap = await swapIn(admin.client, names, { keepPrevious: scope.keepPrevious });
        swapped = true;
        return { id: info.id, database: live, mode: 'swap', previous: swap.previous, sessionsEnded: swap.sessionsEnded, tables: info.tables.length, durationMs: Date.now() - started };
      } finally {
        if (!swapped) {
          await dropDatabaseIfExists(admin.client, names.side).catch((error: unknown) =>
            logger.warn(`could not drop the side database "${names.side}": ${errorMessage(error)}`),
          );
        }
        unregister();
      }
    }
    if (!facts) {
      throw new DbfastError('RESTORE_IMPOSSIBLE', `database "${live}" does not exist and the user "${privileges.user}" cannot create it`, {
        hint: 'Create the database first, or give the user CREATEDB.',
      });
    }
    logger.info(`the user "${privileges.user}" cannot create databases: restoring in place, in one transaction`);
    let sessionsEnded = 0;
    try {
      sessionsEnded = await endSessions(admin.client, live);
    } catch (error) {
      logger.warn(`${errorMessage(error)}; the restore may wait for their locks`);
    }
    // One transaction: the backup's schemas dropped, the archive restored, the row counts
    // checked; any failure (including the check) rolls all of it back.
    await restoreInTransaction(scope.target, (await restoreInput(scope, info, 1, options.signal)).input, {
      compression: info.compression,
      clean: true,
      noOwner: scope.noOwner,
      noPrivileges: scope.noPrivileges,
      before: dropSchemasSql(info.schemas),
      after: `${countCheckSql(info.tables, info.id)}\n${info.migrations ? reconcileMigrationsSql(info.migrations, info.id) : ''}`,
      pgBinDir: scope.pgBinDir,
      logger,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return { id: info.id, database: live, mode: 'in-place', previous: null, sessionsEnded, tables: info.tables.length, durationMs: Date.now() - started };
  } finally {
    await admin.client.end().catch(() => undefined);
  }
}

async function checkRestoreTool(scope: BackupScope, info: BackupInfo): Promise<void> {
  const pgRestore = await toolInfo('pg_restore', scope.pgBinDir);
  const archiveMajor = Number(info.pgDumpVersion.split('.')[0]);
  if (pgRestore.major < archiveMajor) {
    throw new DbfastError('TOOL_TOO_OLD', `pg_restore ${pgRestore.version} cannot read backup ${info.id}, written by pg_dump ${info.pgDumpVersion}`, {
      hint: `Install postgresql-client-${archiveMajor} (or newer) and set [tools] pg_bin_dir to its bin folder.`,
    });
  }
}

async function checkCounts(info: BackupInfo, target: Parameters<typeof withClient>[0], where: string): Promise<void> {
  const counts = await withClient(target, (client) => countExpectedTables(client, info.tables));
  const problems = compareCounts(info.tables, counts);
  if (problems.length > 0) {
    throw new DbfastError('RESTORE_CHECK_FAILED', `the rows in ${where} do not match backup ${info.id}:\n  ${problems.slice(0, 20).join('\n  ')}`, {
      hint: 'The backup could not be restored faithfully; run `dbfast backup verify --restore-test` on it and report the output.',
      details: { problems },
    });
  }
}
