import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { readArchive } from '../archive/read.js';
import { restoreArchive } from '../archive/restore.js';
import { HashingStream, throttledProgress } from '../archive/streams.js';
import { DbfastError, errorMessage, isDbfastError } from '../errors.js';
import { withClient } from '../pg/client.js';
import { withDatabase, type DbTarget } from '../pg/target.js';
import { connectMaintenance, rolePrivileges } from '../pg/admin.js';
import type { BackupScope } from './scope.js';
import { findBackup, readCatalog, writeMetadata } from './store.js';
import type { BackupStorage } from './storage/types.js';
import { scratchName, withScratchDatabase } from '../replace/scratch.js';
import { compareCounts, countExpectedTables } from '../validate/tables.js';
import type { BackupInfo, RestoreVerificationRecord } from './types.js';

export interface IntegrityResult {
  ok: boolean;
  /** What is wrong, one sentence each; empty when ok. */
  problems: string[];
  /** What the stored archive has (null when it is missing). */
  sizeBytes: number | null;
  sha256: string | null;
}

/** sha256 and size of a stored object, streamed (archives can be larger than memory). */
export async function sha256OfStored(storage: BackupStorage, name: string, onBytes?: (total: number) => void, signal?: AbortSignal): Promise<{ sha256: string; sizeBytes: number }> {
  const hasher = new HashingStream(onBytes);
  const discard = new Writable({ write: (_chunk, _encoding, callback) => callback() });
  await pipeline(await storage.get(name, { signal }), hasher, discard, ...(signal ? [{ signal }] : []));
  return { sha256: hasher.digest(), sizeBytes: hasher.bytes };
}

/**
 * Size and sha256 of the stored archive against the metadata only: proof that it is, byte for
 * byte, the archive that was read back completely when it was created. What a restore checks
 * before touching anything (the restore itself then reads every entry again).
 */
export async function checkChecksum(scope: BackupScope, info: BackupInfo, signal?: AbortSignal): Promise<IntegrityResult> {
  const stored = await scope.storage.head(info.file);
  if (!stored) return { ok: false, problems: [`the archive ${scope.storage.describe(info.file)} is missing`], sizeBytes: null, sha256: null };
  const problems: string[] = [];
  if (stored.sizeBytes !== info.sizeBytes) problems.push(`size differs: the metadata says ${info.sizeBytes} bytes, the stored archive has ${stored.sizeBytes}`);
  const report = throttledProgress((done) => scope.logger.progress({ phase: `checking ${info.id}`, done, total: stored.sizeBytes, unit: 'bytes' }));
  const read = await sha256OfStored(scope.storage, info.file, report, signal);
  if (read.sizeBytes !== stored.sizeBytes) problems.push(`the store announced ${stored.sizeBytes} bytes but returned ${read.sizeBytes}`);
  if (read.sha256 !== info.sha256) problems.push(`sha256 differs: the metadata says ${info.sha256}, the stored archive has ${read.sha256}`);
  return { ok: problems.length === 0, problems, sizeBytes: stored.sizeBytes, sha256: read.sha256 };
}

/**
 * Size and sha256 against the metadata, then the whole archive through decompression into
 * pg_restore, which reads every entry. Reads it once from the store (twice when it is
 * unreadable, to still say whether its checksum matches).
 */
export async function checkIntegrity(scope: BackupScope, info: BackupInfo, signal?: AbortSignal): Promise<IntegrityResult> {
  const stored = await scope.storage.head(info.file);
  if (!stored) return { ok: false, problems: [`the archive ${scope.storage.describe(info.file)} is missing`], sizeBytes: null, sha256: null };
  const size = stored.sizeBytes;
  const problems: string[] = [];
  if (size !== info.sizeBytes) problems.push(`size differs: the metadata says ${info.sizeBytes} bytes, the stored archive has ${size}`);
  let sha256: string;
  let unreadable: string | undefined;
  try {
    const read = await readArchive(await scope.storage.get(info.file, { signal }), {
      compression: info.compression,
      pgBinDir: scope.pgBinDir,
      ...(signal ? { signal } : {}),
      onBytes: throttledProgress((done) => scope.logger.progress({ phase: `verifying ${info.id}`, done, total: size, unit: 'bytes' })),
    });
    sha256 = read.sha256;
  } catch (error) {
    if (!isDbfastError(error) || error.code !== 'ARCHIVE_UNREADABLE') throw error;
    unreadable = error.message;
    sha256 = (await sha256OfStored(scope.storage, info.file, undefined, signal)).sha256;
  }
  if (sha256 !== info.sha256) problems.push(`sha256 differs: the metadata says ${info.sha256}, the stored archive has ${sha256}`);
  if (unreadable) problems.push(`the archive cannot be read: ${unreadable}`);
  return { ok: problems.length === 0, problems, sizeBytes: size, sha256 };
}

export interface RestoreTestResult {
  ok: boolean;
  problems: string[];
  server: 'remote' | 'local';
  durationMs: number;
}

/**
 * Restores the backup into a scratch database, on the remote's server when its user may
 * create databases, else on the local server; compares every table's row count with the
 * metadata; drops the scratch database whatever happens.
 */
export async function restoreTest(scope: BackupScope, info: BackupInfo, signal?: AbortSignal): Promise<RestoreTestResult> {
  const started = Date.now();
  const remoteAdmin = await connectMaintenance(scope.target);
  let server: 'remote' | 'local' = 'remote';
  let serverTarget: DbTarget = scope.target;
  let admin = remoteAdmin;
  try {
    if (!(await rolePrivileges(remoteAdmin.client)).createdb) {
      if (!scope.localTarget) {
        return { ok: false, problems: ['the remote user cannot create databases and no local server is configured'], server, durationMs: 0 };
      }
      server = 'local';
      serverTarget = await scope.localTarget();
      scope.logger.info('the remote user cannot create databases: restore test on the local server ([database])');
      await remoteAdmin.client.end().catch(() => undefined);
      admin = await connectMaintenance(serverTarget);
    }
    const scratch = scratchName(info.id, randomBytes(2).toString('hex'));
    const problems: string[] = [];
    await withScratchDatabase(admin.client, scratch, scope.logger, async () => {
      const scratchTarget = withDatabase(serverTarget, scratch);
      try {
        await restoreArchive(scratchTarget, await scope.storage.get(info.file, { signal }), {
          compression: info.compression,
          noOwner: true,
          noPrivileges: true,
          pgBinDir: scope.pgBinDir,
          logger: scope.logger,
          ...(signal ? { signal } : {}),
        });
        const counts = await withClient(scratchTarget, (c) => countExpectedTables(c, info.tables));
        problems.push(...compareCounts(info.tables, counts));
      } catch (error) {
        if (isDbfastError(error) && error.exitCode === 130) throw error;
        problems.push(`the restore failed: ${errorMessage(error)}`);
      }
    });
    return { ok: problems.length === 0, problems, server, durationMs: Date.now() - started };
  } finally {
    await admin.client.end().catch(() => undefined);
    if (admin !== remoteAdmin) await remoteAdmin.client.end().catch(() => undefined);
  }
}

export interface VerifyOptions {
  restoreTest?: boolean;
  signal?: AbortSignal;
}

export interface VerifyResult {
  id: string;
  ok: boolean;
  problems: string[];
  sizeBytes: number | null;
  sha256: string | null;
  restoreTest: RestoreTestResult | null;
}

/** Verifies one backup (an id, or `latest`) and records the outcome in its metadata (`verified`, `verifiedByRestore`). */
export async function verifyBackup(scope: BackupScope, id: string, options: VerifyOptions = {}): Promise<VerifyResult> {
  const info = await findBackup(scope.storage, scope.remote, id);
  return verifyInfo(scope, info, options);
}

/** Verifies every backup of the remote, newest first. */
export async function verifyAllBackups(scope: BackupScope, options: VerifyOptions = {}): Promise<VerifyResult[]> {
  const { backups } = await readCatalog(scope.storage);
  if (backups.length === 0) {
    throw new DbfastError('NO_BACKUPS', `remote "${scope.remote}" has no backups in ${scope.storage.location}`, {
      hint: `Create one with \`dbfast backup create --remote ${scope.remote}\`.`,
    });
  }
  const results: VerifyResult[] = [];
  for (const info of backups) results.push(await verifyInfo(scope, info, options));
  return results;
}

async function verifyInfo(scope: BackupScope, info: BackupInfo, options: VerifyOptions): Promise<VerifyResult> {
  const integrity = await checkIntegrity(scope, info, options.signal);
  const at = new Date().toISOString();
  let restore: RestoreTestResult | null = null;
  const problems = [...integrity.problems];
  if (options.restoreTest) {
    if (integrity.ok) {
      restore = await restoreTest(scope, info, options.signal);
      problems.push(...restore.problems);
    } else {
      problems.push('restore test skipped: the file does not match its metadata');
    }
  }
  const updated: BackupInfo = { ...info, verified: { at, ok: integrity.ok, problems: integrity.problems } };
  if (restore) {
    const record: RestoreVerificationRecord = { at, ok: restore.ok, problems: restore.problems, server: restore.server, durationMs: restore.durationMs };
    updated.verifiedByRestore = record;
  }
  await writeMetadata(scope.storage, updated);
  return { id: info.id, ok: problems.length === 0, problems, sizeBytes: integrity.sizeBytes, sha256: integrity.sha256, restoreTest: restore };
}
