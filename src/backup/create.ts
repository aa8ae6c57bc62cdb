import { existsSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { registerCleanup } from '../cleanup.js';
import { DBFAST_SCHEMA } from '../history/schema.js';
import type { Compression } from '../config/types.js';
import { readArchive } from '../archive/read.js';
import { dumpDatabase } from '../archive/dump.js';
import { throttledProgress } from '../archive/streams.js';
import { DbfastError, isDbfastError } from '../errors.js';
import { operationalError } from '../failure/operational.js';
import { connect } from '../pg/client.js';
import { databaseName } from '../pg/target.js';
import { dbfastVersion } from '../version.js';
import type { BackupScope } from './scope.js';
import { archiveFileName, lockFolder, metadataFileName, newBackupId, PARTIAL_SUFFIX, removePartials, syncFolder, writeMetadata } from './store.js';
import { appliedMigrationIds } from '../history/migrations.js';
import { countTables, listSchemas } from '../validate/tables.js';
import { BACKUP_FORMAT_VERSION, type BackupInfo } from './types.js';

export interface CreateBackupOptions {
  /** Default: the scope's `[backup] compression`. */
  compression?: Compression;
  /** Give up when a table stays locked by another session this long; without it the backup waits, saying who blocks it. */
  lockTimeoutMs?: number | undefined;
  signal?: AbortSignal;
}

export interface CreateBackupResult {
  backup: BackupInfo;
  /** Absolute path of the archive. */
  path: string;
  /** Leftovers of interrupted creates removed first. */
  removedPartials: string[];
}

/**
 * Backs up the scope's remote. The archive streams to `<id>.dump.<ext>.partial` (sha256 on
 * the way, fsynced), is read back completely (checksum, decompression, pg_restore reading
 * every entry), and only then renamed into place; the metadata is written last. Anything
 * that stops earlier leaves at most a `.partial` file, which is never listed and which the
 * next create removes.
 */
export async function createBackup(scope: BackupScope, options: CreateBackupOptions = {}): Promise<CreateBackupResult> {
  const compression = options.compression ?? scope.compression;
  const logger = scope.logger;
  const releaseLock = await lockFolder(scope.folder);
  const controller = new AbortController();
  let interrupted = false;
  const onOuterAbort = (): void => {
    interrupted = true;
    controller.abort();
  };
  options.signal?.addEventListener('abort', onOuterAbort);
  let partial: string | undefined;
  const unregister = registerCleanup(async () => {
    onOuterAbort();
    if (partial) await rm(partial, { force: true });
    await releaseLock();
  });
  try {
    const removedPartials = await removePartials(scope.folder);
    if (removedPartials.length > 0) logger.info(`removed ${removedPartials.length} leftover(s) of interrupted backups`);
    const started = Date.now();
    let id = newBackupId(new Date(started));
    // Two creates in one second could draw the same suffix: never reuse an id.
    while (existsSync(path.join(scope.folder, metadataFileName(id))) || existsSync(path.join(scope.folder, archiveFileName(id, compression)))) {
      id = newBackupId(new Date(started));
    }
    const file = archiveFileName(id, compression);
    const final = path.join(scope.folder, file);
    partial = `${final}${PARTIAL_SUFFIX}`;

    // One snapshot for the row counts and the dump: pg_dump imports the one this
    // transaction exports, so the counts in the metadata describe exactly the archive.
    const client = await connect(scope.target, { applicationName: 'dbfast backup' });
    let dump: Awaited<ReturnType<typeof dumpDatabase>>;
    let facts: { database: string; version: string; versionNum: number };
    let tables: BackupInfo['tables'];
    let schemas: string[];
    let migrations: string[];
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      // The row counts wait for the same table locks as pg_dump, and give up too: a little later,
      // so that pg_dump's error (which names who holds the lock) is the one reported.
      if (options.lockTimeoutMs !== undefined) await client.query(`SELECT set_config('lock_timeout', $1, true)`, [`${Math.round(options.lockTimeoutMs) + 2000}ms`]);
      const row = (
        await client.query<{ snapshot: string; database: string; version: string; version_num: string }>(
          `SELECT pg_export_snapshot() AS snapshot, current_database() AS database,
                  current_setting('server_version') AS version, current_setting('server_version_num') AS version_num`,
        )
      ).rows[0];
      if (!row) throw new DbfastError('SNAPSHOT_FAILED', 'the server returned no snapshot');
      facts = { database: row.database, version: row.version.split(' ')[0] ?? row.version, versionNum: Number(row.version_num) };
      logger.info(`backing up database "${facts.database}" of remote "${scope.remote}" (PostgreSQL ${facts.version}) to ${final}`);
      const dumping = dumpDatabase(scope.target, partial, {
        compression,
        pgBinDir: scope.pgBinDir,
        snapshot: row.snapshot,
        serverVersionNum: facts.versionNum,
        lockTimeoutMs: options.lockTimeoutMs,
        extraArgs: [`--exclude-schema=${DBFAST_SCHEMA}`],
        logger,
        signal: controller.signal,
      });
      // Count while pg_dump runs; the transaction (and its snapshot) stays open until it is done.
      const counting = (async () => {
        const counted = await countTables(client);
        return { counted, schemas: await listSchemas(client), migrations: await appliedMigrationIds(client) };
      })();
      // A failed count stops pg_dump; then the count's error is the cause, not the stop it caused.
      const [dumped, countedOutcome] = await Promise.allSettled([dumping, counting.catch((error: unknown) => {
        controller.abort();
        throw error;
      })]);
      if (dumped.status === 'rejected' && !(countedOutcome.status === 'rejected' && !interrupted && isDbfastError(dumped.reason) && dumped.reason.code === 'INTERRUPTED')) {
        throw dumped.reason;
      }
      if (countedOutcome.status === 'rejected') throw operationalError(countedOutcome.reason, { doing: 'counting the rows of the backup' }) ?? countedOutcome.reason;
      if (dumped.status === 'rejected') throw dumped.reason;
      dump = dumped.value;
      const counted = countedOutcome.value;
      tables = counted.counted;
      schemas = counted.schemas;
      migrations = counted.migrations;
      await client.query('COMMIT');
    } finally {
      await client.end().catch(() => undefined);
    }

    const size = dump.sizeBytes;
    const check = await readArchive(partial, {
      compression,
      pgBinDir: scope.pgBinDir,
      signal: controller.signal,
      onBytes: throttledProgress((done) => logger.progress({ phase: 'checking the archive', done, total: size, unit: 'bytes' })),
    });
    if (check.sha256 !== dump.sha256 || check.sizeBytes !== dump.sizeBytes) {
      throw new DbfastError('BACKUP_CHECK_FAILED', `the archive read back from ${partial} differs from what was written (sha256 or size)`, {
        hint: 'The disk or file system returned other bytes than were written; check it before trusting any backup on it.',
      });
    }
    await rename(partial, final);
    partial = undefined;
    await syncFolder(scope.folder);

    const backup: BackupInfo = {
      formatVersion: BACKUP_FORMAT_VERSION,
      id,
      remote: scope.remote,
      database: facts.database || databaseName(scope.target),
      file,
      createdAt: new Date(started).toISOString(),
      durationMs: Date.now() - started,
      sizeBytes: dump.sizeBytes,
      rawBytes: dump.rawBytes,
      sha256: dump.sha256,
      compression,
      serverVersion: facts.version,
      serverVersionNum: facts.versionNum,
      pgDumpVersion: dump.pgDump.version,
      dbfastVersion: dbfastVersion(),
      tables,
      schemas,
      migrations,
      verified: null,
      verifiedByRestore: null,
    };
    try {
      await writeMetadata(scope.folder, backup);
    } catch (error) {
      // An archive without metadata is not a backup; do not leave one that looks like it.
      await rm(final, { force: true });
      throw operationalError(error, { path: path.join(scope.folder, metadataFileName(id)), doing: `writing the metadata of backup ${id} (the archive was removed again)` }) ?? error;
    }
    return { backup, path: final, removedPartials };
  } catch (error) {
    if (partial) await rm(partial, { force: true });
    if (interrupted && !(error instanceof DbfastError && error.exitCode === 130)) {
      throw new DbfastError('INTERRUPTED', 'the backup was interrupted; nothing was kept', { cause: error });
    }
    throw error;
  } finally {
    options.signal?.removeEventListener('abort', onOuterAbort);
    unregister();
    await releaseLock();
  }
}
