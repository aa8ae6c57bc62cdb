import type pg from 'pg';
import type { DbfastConfig } from '../config/types.js';
import { DbfastError } from '../errors.js';
import { migrationRecordChanges, reconcileMigrationsSql } from '../history/migrations.js';
import type { PhaseClock } from '../history/phases.js';
import { runRecorded, type RecordedRun } from '../history/run.js';
import type { Logger } from '../logger.js';
import { databaseFacts, rolePrivileges } from '../pg/admin.js';
import { applySettingChanges, readDatabaseSettings, settingChangesStatements } from '../pg/db-properties.js';
import { withClient } from '../pg/client.js';
import { withDatabaseLock } from '../pg/lock.js';
import { toolInfo } from '../pg/tools.js';
import type { DbTarget } from '../pg/target.js';
import { resolveRemoteContext, type RemoteContext } from '../remote/context.js';
import { swapNames } from '../remote/names.js';
import { chooseReplaceMode, requireConfirmation, type RestoreMode } from '../remote/policy.js';
import { replaceInPlace } from '../replace/in-place.js';
import { countCheckSql, dropSchemasSql } from '../replace/in-place-sql.js';
import { replaceThroughSide } from '../replace/side.js';
import type { ArchiveSource } from '../replace/source.js';
import { compareCounts, countExpectedTables } from '../validate/tables.js';
import { backupScope, type BackupScope } from './scope.js';
import { restoreInput } from './restore-input.js';
import { findBackup } from './store.js';
import type { BackupInfo } from './types.js';
import { checkChecksum } from './verify.js';
import { refuseProtectedDatabase } from '../validate/protected.js';

/** Which backup to restore over which remote, and the guards' answers. */
export interface RestoreBackupOptions {
  config: DbfastConfig;
  /** The remote whose database is replaced. */
  remote: string;
  /** A backup id, or `latest` (the newest whose last check did not fail). */
  backupId: string;
  /** Whose backups to restore from (default: the remote's own), e.g. production's into staging. */
  fromRemote?: string | undefined;
  /** Needed when the remote (the one replaced) is production or has `require_confirmation`. */
  confirmed?: boolean | undefined;
  /** pg_restore jobs for the side database (default 1: streams, no temporary file). */
  jobs?: number | undefined;
  /** Give up when another deploy/restore/rollback holds the database's lock this long; default: wait. */
  lockTimeoutMs?: number | undefined;
  logger?: Logger | undefined;
  env?: NodeJS.ProcessEnv | undefined;
}

/** What `backup restore` did (the `--json` shape, under `restore`). */
export interface RestoreBackupResult {
  id: string;
  /** The remote restored into, and the one whose backup it was. */
  remote: string;
  fromRemote: string;
  database: string;
  /** swap: restored into a side database, then renamed in. in-place: one transaction in the live database. */
  mode: RestoreMode;
  /** Name the replaced database was kept under, or null. */
  previous: string | null;
  sessionsEnded: number;
  tables: number;
  durationMs: number;
}

/** A backup chosen and checked, before anything on the remote is touched. */
export interface PreparedRestore {
  info: BackupInfo;
  /** Where the backup is (the `fromRemote`'s backups). */
  scope: BackupScope;
}

/**
 * Restores a backup over a remote's database, recorded in its history (kind `restore`). Checked
 * first, touching nothing: the backup (id or `latest`), the confirmation, pg_restore's version,
 * the file's size and sha256. Then, with CREATEDB: restored into `<db>__dbfast_restore`,
 * analyzed, its row counts checked, swapped in (the replaced database kept as
 * `<db>__dbfast_prev`); without: in place in one transaction. Any failure leaves the database as
 * it was.
 */
export async function restoreBackup(options: RestoreBackupOptions): Promise<RestoreBackupResult> {
  const ctx = resolveRemoteContext({ config: options.config, remote: options.remote, logger: options.logger, env: options.env, replaces: true });
  const prepared = await prepareRestore(ctx, options);
  return runRecorded('restore', ctx, (run) => {
    run.record.backupId = prepared.info.id;
    return restorePrepared(ctx, prepared, { clock: run.clock, state: run, jobs: options.jobs, lockTimeoutMs: options.lockTimeoutMs });
  });
}

/** Validates a restore without touching the remote: which backup, the confirmation, the tool, the checksum. */
export async function prepareRestore(
  ctx: RemoteContext,
  options: { backupId: string; fromRemote?: string | undefined; confirmed?: boolean | undefined; verb?: string },
): Promise<PreparedRestore> {
  const scope = backupScope(ctx.config, options.fromRemote ?? ctx.remote.name, { logger: ctx.logger, env: ctx.env });
  const info = await findBackup(scope.storage, scope.remote, options.backupId);
  if (options.backupId !== info.id) ctx.logger.info(`${options.backupId}: backup ${info.id} of ${info.createdAt}`);
  requireConfirmation(ctx.remote, options.confirmed, `${options.verb ?? 'restoring'} backup ${info.id} over`, `dbfast backup restore --remote ${ctx.remote.name} --backup-id ${info.id}`);
  const pgRestore = await toolInfo('pg_restore', ctx.pgBinDir);
  const archiveMajor = Number(info.pgDumpVersion.split('.')[0]);
  if (pgRestore.major < archiveMajor) {
    throw new DbfastError('TOOL_TOO_OLD', `pg_restore ${pgRestore.version} cannot read backup ${info.id}, written by pg_dump ${info.pgDumpVersion}`, {
      hint: `Install postgresql-client-${archiveMajor} (or newer) and set [tools] pg_bin_dir to its bin folder.`,
    });
  }
  // The checksum proves the file is the archive read back in full when it was created; the
  // restore reads every entry again, into a side database or one transaction.
  ctx.logger.info(`checking backup ${info.id} (size, sha256)`);
  const integrity = await checkChecksum(scope, info);
  if (!integrity.ok) {
    throw new DbfastError('BACKUP_CORRUPT', `backup ${info.id} failed verification; nothing was restored:\n  ${integrity.problems.join('\n  ')}`, {
      hint: `Restore another backup (\`dbfast backup list --remote ${scope.remote}\`).`,
      details: { problems: integrity.problems },
    });
  }
  return { info, scope };
}

/**
 * Restores a prepared backup over `ctx`'s database, under its lock (`admin`: a connection that
 * holds it already, as a deploy undoing itself does).
 */
export async function restorePrepared(
  ctx: RemoteContext,
  prepared: PreparedRestore,
  options: { clock: PhaseClock; state: Pick<RecordedRun, 'live' | 'onRemote' | 'checkpoint'>; jobs?: number | undefined; lockTimeoutMs?: number | undefined; admin?: pg.Client },
): Promise<RestoreBackupResult> {
  const started = Date.now();
  const { info, scope } = prepared;
  const { logger } = ctx;
  if (scope.remote !== ctx.remote.name) {
    logger.info(`restoring backup ${info.id} of remote "${scope.remote}" (database "${info.database}") into remote "${ctx.remote.name}" (database "${ctx.database}")`);
  } else if (info.database !== ctx.database) {
    logger.warn(`backup ${info.id} is of database "${info.database}"; restoring it into "${ctx.database}"`);
  }
  const base = { ctx, clock: options.clock, state: options.state };
  const source: ArchiveSource = {
    label: `backup ${info.id}`,
    // Streamed from the store; a temporary copy only for parallel jobs (see restoreInput).
    open: (jobs) => restoreInput(scope, info, jobs),
    compression: info.compression,
    jobs: options.jobs ?? 1,
    totalRows: info.tables.reduce((sum, table) => sum + table.rows, 0),
    totalBytes: info.rawBytes,
    noOwner: ctx.remote.noOwner,
  };
  const restore = async (admin: pg.Client): Promise<RestoreBackupResult> => {
    // Checked on the server, under the lock: template0/1, postgres or any datistemplate database is never replaced.
    await refuseProtectedDatabase(admin, ctx.database, `remotes.${ctx.remote.name}.url`);
    const [privileges, facts] = await Promise.all([rolePrivileges(admin), databaseFacts(admin, ctx.database)]);
    const mode = chooseReplaceMode({ canCreateDatabases: privileges.createdb, superuser: privileges.superuser, databaseExists: facts !== undefined, ownsDatabase: facts?.ownedByUs ?? null });
    const result = { id: info.id, remote: ctx.remote.name, fromRemote: scope.remote, database: ctx.database, tables: info.tables.length };
    if (!mode) {
      throw new DbfastError('RESTORE_IMPOSSIBLE', `database "${ctx.database}" does not exist and the user "${privileges.user}" cannot create it`, {
        hint: 'Create the database first, or give the user CREATEDB.',
      });
    }
    options.state.onRemote = facts !== undefined;
    // The database's own settings as backed up (pg_dump leaves them out): what the restored database
    // gets, checked now on the live one (in a transaction rolled back) so a setting this role may
    // not make stops the restore before it starts. Older backups did not record them: the live ones stay.
    const settings = info.settings;
    const liveSettings = settings && facts ? await readDatabaseSettings(admin, ctx.database) : [];
    if (settings && facts) await applySettingChanges(admin, ctx.database, mode === 'swap' ? [] : liveSettings, settings, { rollback: true });
    if (mode === 'swap') {
      const names = swapNames(ctx.database, 'restore');
      logger.info(`restoring into side database "${names.side}"`);
      const swap = await replaceThroughSide({
        ...base,
        source,
        admin,
        names,
        check: (side) => checkCounts(info, side, `side database "${names.side}"`),
        prepare: async (side) => {
          const sql = await recordsFor(ctx, side, info);
          if (sql) await side.query(sql);
        },
        keepPrevious: ctx.remote.keepPrevious,
        ...(settings ? { settings, liveSettings: 'replace' as const } : {}),
      });
      return { ...result, mode, previous: swap.previous, sessionsEnded: swap.sessionsEnded, durationMs: Date.now() - started };
    }
    logger.info(`the user "${privileges.user}" cannot create databases: restoring in place, in one transaction`);
    const reconcile = await withClient(ctx.target, (client) => recordsFor(ctx, client, info));
    const settingsSql = settings ? settingChangesStatements(ctx.database, liveSettings, settings).join('\n') : '';
    const inPlace = await replaceInPlace({ ...base, source: { ...source, jobs: 1 }, before: dropSchemasSql(info.schemas), after: `${countCheckSql(info.tables, info.id)}\n${reconcile}\n${settingsSql}`, endSessions: true });
    return { ...result, mode, previous: null, sessionsEnded: inPlace.sessionsEnded, durationMs: Date.now() - started };
  };
  if (options.admin) return restore(options.admin);
  return withDatabaseLock(ctx.target, ctx.database, { timeoutMs: options.lockTimeoutMs, logger }, (admin) => restore(admin.client));
}

/**
 * SQL that makes the migration records (which stay with the live database) describe the
 * restored backup's schema, for the restore to run (in the side database, or inside the in-place
 * transaction). What it may not or cannot change is a warning, never a reason to fail: the
 * restore needs no privilege on dbfast's tables.
 */
async function recordsFor(ctx: RemoteContext, client: pg.Client, info: BackupInfo): Promise<string> {
  if (!info.migrations) return '';
  const changes = await migrationRecordChanges(client, info.migrations);
  if (changes.unknown.length > 0) {
    ctx.logger.warn(
      `the restored schema has migration(s) that remote "${ctx.remote.name}" has no record of (a backup of another remote?): ${changes.unknown.join(', ')}. ` +
        `Record them with \`dbfast migrate mark-applied --remote ${ctx.remote.name} ${changes.unknown.join(' ')}\`, or \`migrate apply\` runs them again.`,
    );
  }
  if (changes.undo.length + changes.redo.length === 0) return '';
  const sql = reconcileMigrationsSql(changes, info.id);
  if (changes.mayUpdate) return sql;
  const ids = [...changes.undo, ...changes.redo].join(', ');
  ctx.logger.warn(
    `could not mark ${ids} in dbfast.migrations (permission denied: the table belongs to "${changes.owner ?? '?'}"). ` +
      `\`dbfast migrate status\` does not describe the restored schema until "${changes.owner ?? 'its owner'}" runs:\n  ${sql}`,
  );
  return '';
}

async function checkCounts(info: BackupInfo, target: DbTarget, where: string): Promise<void> {
  const counts = await withClient(target, (client) => countExpectedTables(client, info.tables));
  const problems = compareCounts(info.tables, counts);
  if (problems.length > 0) {
    throw new DbfastError('RESTORE_CHECK_FAILED', `the rows in ${where} do not match backup ${info.id}:\n  ${problems.slice(0, 20).join('\n  ')}`, {
      hint: 'The backup could not be restored faithfully; run `dbfast backup verify --restore-test` on it and report the output.',
      details: { problems },
    });
  }
}
