import os from 'node:os';
import { PassThrough, Readable } from 'node:stream';
import { registerCleanup } from '../cleanup.js';
import { DBFAST_SCHEMA } from '../history/schema.js';
import type { Compression } from '../config/types.js';
import { readArchive } from '../archive/read.js';
import { dumpDatabase } from '../archive/dump.js';
import { throttledProgress } from '../archive/streams.js';
import { DbfastError, errorMessage, isDbfastError } from '../errors.js';
import { operationalError } from '../failure/operational.js';
import { connect } from '../pg/client.js';
import { readDatabaseSettings } from '../pg/db-properties.js';
import { databaseName } from '../pg/target.js';
import { dbfastVersion } from '../version.js';
import { warnIfTrackedByGit } from './git-exposure.js';
import { applyRetention } from './prune.js';
import type { BackupScope } from './scope.js';
import { archiveFileName, metadataFileName, newBackupId, pendingFileName, removeLeftovers, writeMetadata } from './store.js';
import type { BackupStorage } from './storage/types.js';
import { appliedMigrationIds } from '../history/migrations.js';
import { countTables, listSchemas } from '../validate/tables.js';
import { BACKUP_FORMAT_VERSION, type BackupInfo } from './types.js';

export interface CreateBackupOptions {
  /** Default: the scope's `[backup] compression`. */
  compression?: Compression;
  /** Apply keep_last / keep_days after the backup is made (default true). */
  retention?: boolean;
  /** Give up when a table stays locked by another session this long; without it the backup waits, saying who blocks it. */
  lockTimeoutMs?: number | undefined;
  signal?: AbortSignal;
}

export interface CreateBackupResult {
  backup: BackupInfo;
  /** Where the archive is: a path, or an s3:// URL. */
  path: string;
  /** Leftovers of interrupted creates removed first. */
  removedPartials: string[];
  /** Backups deleted by retention (keep_last / keep_days) afterwards. */
  pruned: string[];
}

/**
 * Backs up the scope's remote into its store (a folder or S3). The archive streams from
 * pg_dump through the compressor and a sha256 into the store (never a full copy in memory or
 * on a local disk), is read back completely from the store (checksum, decompression,
 * pg_restore reading every entry), and only then is the metadata written, recording that
 * check: a backup is listed only once its metadata exists. A `.pending` marker written first
 * and deleted last lets the next command recognise and remove what a killed create left.
 */
export async function createBackup(scope: BackupScope, options: CreateBackupOptions = {}): Promise<CreateBackupResult> {
  const compression = options.compression ?? scope.compression;
  const logger = scope.logger;
  const storage = scope.storage;
  const lock = await storage.lock();
  const controller = new AbortController();
  let interrupted = false;
  const onOuterAbort = (): void => {
    interrupted = true;
    controller.abort();
  };
  options.signal?.addEventListener('abort', onOuterAbort);
  let unfinished: { id: string; file: string } | undefined;
  const unregister = registerCleanup(async () => {
    onOuterAbort();
    if (unfinished) await discard(storage, unfinished.id, unfinished.file);
    await lock.release();
  });
  try {
    const removedPartials = await removeLeftovers(storage);
    if (removedPartials.length > 0) logger.info(`removed ${removedPartials.length} leftover(s) of interrupted backups`);
    if (storage.kind === 'directory') await warnIfTrackedByGit(storage.location, logger);
    const started = Date.now();
    let id = newBackupId(new Date(started));
    // Two creates in one second could draw the same suffix: never reuse an id.
    while ((await storage.head(metadataFileName(id))) || (await storage.head(archiveFileName(id, compression)))) id = newBackupId(new Date(started));
    const file = archiveFileName(id, compression);
    unfinished = { id, file };
    const marker = { pid: process.pid, host: os.hostname(), startedAt: new Date(started).toISOString() };
    await storage.put(pendingFileName(id), Readable.from([Buffer.from(JSON.stringify(marker))]));

    // One snapshot for the row counts and the dump: pg_dump imports the one this
    // transaction exports, so the counts in the metadata describe exactly the archive.
    const client = await connect(scope.target, { applicationName: 'dbfast backup' });
    let dump: Awaited<ReturnType<typeof dumpDatabase>>;
    let facts: { database: string; version: string; versionNum: number };
    let tables: BackupInfo['tables'];
    let schemas: string[];
    let migrations: string[];
    let settings: BackupInfo['settings'];
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      // The counts run under pg_dump's table locks, but can still queue behind another session's
      // request for an exclusive one: they give up like pg_dump does.
      if (options.lockTimeoutMs !== undefined) await client.query(`SELECT set_config('lock_timeout', $1, true)`, [`${Math.max(1, Math.round(options.lockTimeoutMs))}ms`]);
      const row = (
        await client.query<{ snapshot: string; database: string; version: string; version_num: string }>(
          `SELECT pg_export_snapshot() AS snapshot, current_database() AS database,
                  current_setting('server_version') AS version, current_setting('server_version_num') AS version_num`,
        )
      ).rows[0];
      if (!row) throw new DbfastError('SNAPSHOT_FAILED', 'the server returned no snapshot');
      facts = { database: row.database, version: row.version.split(' ')[0] ?? row.version, versionNum: Number(row.version_num) };
      // pg_dump without --create leaves the database's own settings out: kept in the metadata for the restore.
      settings = await readDatabaseSettings(client, row.database);
      logger.info(`backing up database "${facts.database}" of remote "${scope.remote}" (PostgreSQL ${facts.version}) to ${storage.describe(file)}`);
      const count = async (): Promise<{ counted: BackupInfo['tables']; schemas: string[]; migrations: string[] }> => ({
        counted: await countTables(client),
        schemas: await listSchemas(client),
        migrations: await appliedMigrationIds(client),
      });
      let dumpStarted: (started: boolean) => void = () => undefined;
      const started = new Promise<boolean>((resolve) => (dumpStarted = resolve));
      const dumping = dumpInto(scope, storage, file, { compression, snapshot: row.snapshot, serverVersionNum: facts.versionNum, lockTimeoutMs: options.lockTimeoutMs, onStarted: () => dumpStarted(true), signal: controller.signal });
      void dumping.then(() => dumpStarted(false), () => dumpStarted(false));
      // Counted while pg_dump writes, once it holds its locks: a table neither may read (or lock)
      // then fails pg_dump first, and its own words are what the user sees.
      const counting = started.then((yes) => (yes ? count() : undefined));
      const [dumped, countedOutcome] = await Promise.allSettled([
        dumping,
        // The transaction (and its snapshot) stays open until both are done.
        counting.catch((error: unknown) => {
          controller.abort();
          throw error;
        }),
      ]);
      // A failed count stops pg_dump; then the count's error is the cause, not the stop it caused.
      const stoppedByCount = countedOutcome.status === 'rejected' && !interrupted && dumped.status === 'rejected' && isDbfastError(dumped.reason) && dumped.reason.code === 'INTERRUPTED';
      if (dumped.status === 'rejected' && !stoppedByCount) throw dumped.reason;
      if (countedOutcome.status === 'rejected') throw operationalError(countedOutcome.reason, { doing: 'counting the rows of the backup' }) ?? countedOutcome.reason;
      if (dumped.status === 'rejected') throw dumped.reason;
      dump = dumped.value;
      const counted = countedOutcome.value ?? (await count());
      tables = counted.counted;
      schemas = counted.schemas;
      migrations = counted.migrations;
      await client.query('COMMIT');
    } finally {
      await client.end().catch(() => undefined);
    }

    // Read back from the store, not from what we sent: the check covers the store itself.
    const size = dump.sizeBytes;
    const check = await readArchive(await storage.get(file, { signal: controller.signal }), {
      compression,
      pgBinDir: scope.pgBinDir,
      signal: controller.signal,
      onBytes: throttledProgress((done) => logger.progress({ phase: 'reading the backup back', done, total: size, unit: 'bytes' })),
    });
    if (check.sha256 !== dump.sha256 || check.sizeBytes !== dump.sizeBytes) {
      throw new DbfastError('BACKUP_CHECK_FAILED', `the archive read back from ${storage.describe(file)} differs from what was written (sha256 or size)`, {
        hint: 'The store returned other bytes than were written; check it before trusting any backup on it.',
      });
    }
    const checkedAt = new Date().toISOString();
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
      settings,
      // The read-back above is the same check as `backup verify`: record it.
      verified: { at: checkedAt, ok: true, problems: [] },
      verifiedByRestore: null,
    };
    await writeMetadata(storage, backup);
    unfinished = undefined;
    await storage.delete(pendingFileName(id)).catch((error: unknown) => logger.warn(`could not delete ${storage.describe(pendingFileName(id))}: ${errorMessage(error)}; the next command removes it`));
    let pruned: string[] = [];
    if (options.retention !== false) {
      try {
        pruned = await applyRetention(scope);
        if (pruned.length > 0) logger.info(`retention: deleted ${pruned.length} older backup(s): ${pruned.join(', ')}`);
      } catch (error) {
        logger.warn(`the backup was made, but applying retention failed: ${errorMessage(error)}`);
      }
    }
    return { backup, path: storage.describe(file), removedPartials, pruned };
  } catch (error) {
    if (unfinished) await discard(storage, unfinished.id, unfinished.file);
    if (interrupted && !(error instanceof DbfastError && error.exitCode === 130)) {
      throw new DbfastError('INTERRUPTED', 'the backup was interrupted; nothing was kept', { cause: error });
    }
    throw error;
  } finally {
    options.signal?.removeEventListener('abort', onOuterAbort);
    unregister();
    await lock.release();
  }
}

/**
 * pg_dump -> compressor -> sha256 -> the store, all streaming. Whichever side fails first
 * stops the other; the error reported is the cause (the store's, when the dump only failed
 * because the store stopped reading).
 */
async function dumpInto(
  scope: BackupScope,
  storage: BackupStorage,
  file: string,
  options: { compression: Compression; snapshot: string; serverVersionNum: number; lockTimeoutMs: number | undefined; onStarted: () => void; signal: AbortSignal },
): Promise<Awaited<ReturnType<typeof dumpDatabase>>> {
  const body = new PassThrough({ highWaterMark: 1024 * 1024 });
  const dumping = dumpDatabase(scope.target, body, {
    compression: options.compression,
    pgBinDir: scope.pgBinDir,
    snapshot: options.snapshot,
    serverVersionNum: options.serverVersionNum,
    lockTimeoutMs: options.lockTimeoutMs,
    onStarted: options.onStarted,
    extraArgs: [`--exclude-schema=${DBFAST_SCHEMA}`],
    logger: scope.logger,
    signal: options.signal,
  }).catch((error: unknown) => {
    // A dump that fails before writing must not leave the upload waiting for bytes.
    body.destroy(error instanceof Error ? error : new Error(String(error)));
    throw error;
  });
  const storing = storage.put(file, body, { signal: options.signal });
  const [dumped, stored] = await Promise.allSettled([dumping, storing]);
  if (dumped.status === 'fulfilled' && stored.status === 'fulfilled') return dumped.value;
  const dumpWriteFailed = dumped.status === 'rejected' && dumped.reason instanceof DbfastError && dumped.reason.code === 'DUMP_WRITE_FAILED';
  if (stored.status === 'rejected' && (dumped.status === 'fulfilled' || dumpWriteFailed)) throw stored.reason;
  throw dumped.status === 'rejected' ? dumped.reason : (stored as PromiseRejectedResult).reason;
}

/** Removes what an unfinished create wrote (archive, metadata never written, marker); best effort. */
async function discard(storage: BackupStorage, id: string, file: string): Promise<void> {
  for (const name of [file, pendingFileName(id)]) await storage.delete(name).catch(() => undefined);
}
