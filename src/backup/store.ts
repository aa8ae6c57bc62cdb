import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { Compression } from '../config/types.js';
import { compressionExtension } from '../archive/compression.js';
import { DbfastError } from '../errors.js';
import type { BackupStorage } from './storage/types.js';
import { backupHealth, backupInfoSchema, type BackupHealth, type BackupInfo } from './types.js';

export { syncFolder } from './storage/local.js';

const ID_PATTERN = /^\d{8}T\d{6}Z-[0-9a-f]{4}$/;
export const METADATA_SUFFIX = '.json';
/** Written before a backup's archive and deleted after its metadata: marks a create in progress (or killed). */
export const PENDING_SUFFIX = '.pending';
/** `--backup-id latest`: the newest backup not known to be damaged. */
export const LATEST = 'latest';
const METADATA_LIMIT = 16 * 1024 * 1024;

/** `20261123T061500Z-1a2b`: sorts by time as text; the suffix keeps two backups in one second apart. */
export function newBackupId(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomBytes(2).toString('hex')}`;
}

export function isBackupId(value: string): boolean {
  return ID_PATTERN.test(value);
}

export function assertBackupId(value: string): void {
  if (!isBackupId(value)) {
    throw new DbfastError('BACKUP_ID_INVALID', `"${value}" is not a backup id (they look like 20261123T061500Z-1a2b, or "latest")`, {
      hint: 'Copy the id from `dbfast backup list --remote NAME`.',
    });
  }
}

export function archiveFileName(id: string, compression: Compression): string {
  return `${id}.dump${compressionExtension(compression)}`;
}

export function metadataFileName(id: string): string {
  return `${id}${METADATA_SUFFIX}`;
}

export function pendingFileName(id: string): string {
  return `${id}${PENDING_SUFFIX}`;
}

/** Writes the metadata whole (a put is all or nothing on both backends). */
export async function writeMetadata(storage: BackupStorage, info: BackupInfo): Promise<void> {
  await storage.put(metadataFileName(info.id), Readable.from([Buffer.from(`${JSON.stringify(info, null, 2)}\n`)]));
}

/** What a remote's store holds. */
export interface Catalog {
  /** Backups with readable metadata and their archive, newest first. */
  backups: BackupInfo[];
  /** Backups whose archive is known damaged without reading it (its size differs from the metadata's), with why. */
  damaged: Map<string, string>;
  /** Things in the store that are not backups (orphans, unreadable metadata), one line each. */
  warnings: string[];
  /** Leftovers of interrupted creates removed while reading (done only when nobody holds the lock). */
  removed: string[];
}

/** The health a backup has in this catalogue: its last check, and the size of its stored archive. */
export function healthIn(catalog: Catalog, info: BackupInfo): BackupHealth {
  return catalog.damaged.has(info.id) ? 'damaged' : backupHealth(info);
}

/**
 * Reads the store. Leftovers of interrupted creates (a `.pending` marker, an unfinished
 * upload or `.partial` file) are removed on the way when nobody holds the lock, so that no
 * multipart upload a killed process left behind outlives the next command.
 */
export async function readCatalog(storage: BackupStorage): Promise<Catalog> {
  let objects = await storage.list();
  const warnings: string[] = [];
  let removed: string[] = [];
  const pending = objects.filter((o) => o.name.endsWith(PENDING_SUFFIX));
  if (pending.length > 0 || (await storage.incomplete()).length > 0) {
    const lock = await storage.tryLock();
    if (lock) {
      try {
        removed = await removeLeftovers(storage);
      } finally {
        await lock.release();
      }
      objects = await storage.list();
    } else {
      warnings.push(`a backup is being created in ${storage.location} right now (${pending.map((p) => p.name.slice(0, -PENDING_SUFFIX.length)).join(', ') || 'starting'})`);
    }
  }
  const sizes = new Map(objects.map((o) => [o.name, o.sizeBytes]));
  const inProgress = new Set(objects.filter((o) => o.name.endsWith(PENDING_SUFFIX)).map((o) => o.name.slice(0, -PENDING_SUFFIX.length)));
  const backups: BackupInfo[] = [];
  const damaged = new Map<string, string>();
  const claimed = new Set<string>();
  for (const { name } of objects) {
    if (!name.endsWith(METADATA_SUFFIX)) continue;
    const id = name.slice(0, -METADATA_SUFFIX.length);
    if (!isBackupId(id)) continue;
    const parsed = await readMetadata(storage, name);
    if (!parsed.ok) {
      warnings.push(`${name}: ${parsed.problem}; not a backup`);
      continue;
    }
    const info = parsed.info;
    claimed.add(info.file);
    if (info.id !== id || path.basename(info.file) !== info.file || !info.file.startsWith(`${id}.dump`)) {
      warnings.push(`${name}: its id or file name does not match its own name; not a backup`);
      continue;
    }
    const size = sizes.get(info.file);
    if (size === undefined) {
      warnings.push(`${name}: the archive ${info.file} is missing; not a backup`);
      continue;
    }
    if (size !== info.sizeBytes) damaged.set(id, `size differs: the metadata says ${info.sizeBytes} bytes, the stored archive has ${size}`);
    backups.push(info);
  }
  for (const { name } of objects) {
    if (claimed.has(name) || name.endsWith(METADATA_SUFFIX) || name.endsWith(PENDING_SUFFIX)) continue;
    const id = name.split('.')[0] ?? '';
    if (inProgress.has(id)) continue;
    if (/^\d{8}T\d{6}Z-[0-9a-f]{4}\.dump/.test(name)) warnings.push(`${name}: archive without metadata; not a backup (delete it if you do not need it)`);
  }
  backups.sort((a, b) => (a.createdAt === b.createdAt ? b.id.localeCompare(a.id) : b.createdAt.localeCompare(a.createdAt)));
  return { backups, damaged, warnings, removed };
}

/**
 * Removes what interrupted creates left (call with the lock held): unfinished uploads and
 * `.partial` files, and for each `.pending` marker the archive it was writing, unless its
 * metadata made it (then only the marker was left).
 */
export async function removeLeftovers(storage: BackupStorage): Promise<string[]> {
  const removed = await storage.removeIncomplete();
  const objects = await storage.list();
  const names = new Set(objects.map((o) => o.name));
  for (const marker of objects.filter((o) => o.name.endsWith(PENDING_SUFFIX))) {
    const id = marker.name.slice(0, -PENDING_SUFFIX.length);
    if (!isBackupId(id)) continue;
    if (!names.has(metadataFileName(id))) {
      for (const { name } of objects) {
        if (!name.startsWith(`${id}.dump`)) continue;
        await storage.delete(name);
        removed.push(storage.describe(name));
      }
    }
    await storage.delete(marker.name);
    removed.push(storage.describe(marker.name));
  }
  return removed;
}

async function readMetadata(storage: BackupStorage, name: string): Promise<{ ok: true; info: BackupInfo } | { ok: false; problem: string }> {
  let text: string;
  try {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of await storage.get(name)) {
      size += (chunk as Buffer).length;
      if (size > METADATA_LIMIT) return { ok: false, problem: `is larger than ${METADATA_LIMIT} bytes` };
      chunks.push(chunk as Buffer);
    }
    text = Buffer.concat(chunks).toString('utf8');
  } catch (error) {
    return { ok: false, problem: `cannot be read (${(error as Error).message})` };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, problem: 'is not valid JSON' };
  }
  const result = backupInfoSchema.safeParse(json);
  if (!result.success) {
    const first = result.error.issues[0];
    return { ok: false, problem: `is not dbfast backup metadata (${first ? `${first.path.join('.')}: ${first.message}` : 'invalid'})` };
  }
  return { ok: true, info: result.data as BackupInfo };
}

/**
 * The backup an id names; `latest` is the newest backup not known to be damaged (the one a
 * restore would use): never a backup whose last check failed or whose archive has the wrong size.
 */
export function chooseBackup(catalog: Catalog, storage: BackupStorage, remote: string, id: string): BackupInfo {
  if (id === LATEST) {
    const found = catalog.backups.find((info) => healthIn(catalog, info) !== 'damaged');
    if (found) return found;
    const hint = catalog.backups.length > 0 ? `Every backup of "${remote}" failed its last check; create a new one with \`dbfast backup create --remote ${remote}\`.` : `Create one with \`dbfast backup create --remote ${remote}\`.`;
    throw new DbfastError('BACKUP_NOT_FOUND', `remote "${remote}" has no restorable backup in ${storage.location}`, { hint });
  }
  assertBackupId(id);
  const found = catalog.backups.find((backup) => backup.id === id);
  if (found) return found;
  const why = catalog.warnings.find((warning) => warning.startsWith(id));
  throw new DbfastError('BACKUP_NOT_FOUND', `no backup ${id} for remote "${remote}" in ${storage.location}${why ? ` (${why})` : ''}`, {
    hint: `List them with \`dbfast backup list --remote ${remote}\`.`,
  });
}

/** Reads the store and returns the backup an id (or `latest`) names. */
export async function findBackup(storage: BackupStorage, remote: string, id: string): Promise<BackupInfo> {
  if (id !== LATEST) assertBackupId(id);
  return chooseBackup(await readCatalog(storage), storage, remote, id);
}
