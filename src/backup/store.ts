import { randomBytes } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Compression } from '../config/types.js';
import { compressionExtension } from '../archive/compression.js';
import { HashingStream } from '../archive/streams.js';
import { DbfastError } from '../errors.js';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { backupInfoSchema, type BackupInfo } from './types.js';

const ID_PATTERN = /^\d{8}T\d{6}Z-[0-9a-f]{4}$/;
export const METADATA_SUFFIX = '.json';
export const PARTIAL_SUFFIX = '.partial';
const LOCK_FILE = '.create.lock';

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
    throw new DbfastError('BACKUP_ID_INVALID', `"${value}" is not a backup id (they look like 20261123T061500Z-1a2b)`, {
      hint: 'Copy the id from `dbfast backup list --remote NAME`.',
      exitCode: 2,
    });
  }
}

/** `<dir>/<remote>`; the remote name becomes a folder, so it must be one path segment. */
export function remoteFolder(dir: string, remote: string): string {
  if (!remote || remote === '.' || remote === '..' || /[/\\\0]/.test(remote)) {
    throw new DbfastError('REMOTE_NAME_INVALID', `remote name "${remote}" cannot be used as a folder name for backups`, {
      hint: 'Rename the remote to letters, digits, "-" and "_".',
      exitCode: 2,
    });
  }
  return path.join(dir, remote);
}

export function archiveFileName(id: string, compression: Compression): string {
  return `${id}.dump${compressionExtension(compression)}`;
}

export function metadataFileName(id: string): string {
  return `${id}${METADATA_SUFFIX}`;
}

/** fsync a folder so a rename in it survives a crash. */
export async function syncFolder(folder: string): Promise<void> {
  const handle = await open(folder, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes the metadata atomically: temp file, fsync, rename, fsync the folder. */
export async function writeMetadata(folder: string, info: BackupInfo): Promise<void> {
  const final = path.join(folder, metadataFileName(info.id));
  const temp = `${final}.${randomBytes(3).toString('hex')}${PARTIAL_SUFFIX}`;
  try {
    await writeFile(temp, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600, flush: true });
    await rename(temp, final);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  await syncFolder(folder);
}

export interface FolderListing {
  /** Backups with both a readable metadata file and its archive, newest first. */
  backups: BackupInfo[];
  /** Things in the folder that are not backups (orphans, unreadable metadata), one line each. */
  warnings: string[];
  /** Leftovers of interrupted creates. */
  partials: string[];
}

export async function readFolder(folder: string): Promise<FolderListing> {
  let names: string[];
  try {
    names = await readdir(folder);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { backups: [], warnings: [], partials: [] };
    throw error;
  }
  const present = new Set(names);
  const backups: BackupInfo[] = [];
  const warnings: string[] = [];
  const claimed = new Set<string>();
  for (const name of names) {
    if (!name.endsWith(METADATA_SUFFIX)) continue;
    const id = name.slice(0, -METADATA_SUFFIX.length);
    if (!isBackupId(id)) continue;
    const parsed = await readMetadataFile(path.join(folder, name));
    if (!parsed.ok) {
      warnings.push(`${name}: ${parsed.problem}; not a backup`);
      continue;
    }
    const info = parsed.info;
    claimed.add(info.file);
    if (info.id !== id || path.basename(info.file) !== info.file) {
      warnings.push(`${name}: its id or file name does not match its own name; not a backup`);
      continue;
    }
    if (!present.has(info.file)) {
      warnings.push(`${name}: the archive ${info.file} is missing; not a backup`);
      continue;
    }
    backups.push(info);
  }
  const partials = names.filter((name) => name.endsWith(PARTIAL_SUFFIX));
  for (const name of names) {
    if (name.endsWith(PARTIAL_SUFFIX) || name.endsWith(METADATA_SUFFIX) || name === LOCK_FILE || claimed.has(name)) continue;
    if (/^\d{8}T\d{6}Z-[0-9a-f]{4}\.dump/.test(name)) warnings.push(`${name}: archive without metadata; not a backup (delete it if you do not need it)`);
  }
  backups.sort((a, b) => (a.createdAt === b.createdAt ? b.id.localeCompare(a.id) : b.createdAt.localeCompare(a.createdAt)));
  return { backups, warnings, partials };
}

async function readMetadataFile(file: string): Promise<{ ok: true; info: BackupInfo } | { ok: false; problem: string }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
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

export async function findBackup(folder: string, remote: string, id: string): Promise<BackupInfo> {
  assertBackupId(id);
  const { backups, warnings } = await readFolder(folder);
  const found = backups.find((backup) => backup.id === id);
  if (found) return found;
  const why = warnings.find((warning) => warning.startsWith(id));
  throw new DbfastError('BACKUP_NOT_FOUND', `no backup ${id} for remote "${remote}" in ${folder}${why ? ` (${why})` : ''}`, {
    hint: `List them with \`dbfast backup list --remote ${remote}\`.`,
    exitCode: 2,
  });
}

export async function fileSize(file: string): Promise<number | undefined> {
  try {
    return (await stat(file)).size;
  } catch {
    return undefined;
  }
}

/** sha256 of a file, streamed (the files can be larger than memory). */
export async function sha256OfFile(file: string, onBytes?: (total: number) => void): Promise<string> {
  const hasher = new HashingStream(onBytes);
  const discard = new Writable({ write: (_chunk, _encoding, callback) => callback() });
  await pipeline(createReadStream(file, { highWaterMark: 1024 * 1024 }), hasher, discard);
  return hasher.digest();
}

/**
 * One `backup create` per folder at a time: a lock file holding our pid. A lock whose pid is
 * gone (the process was killed) is taken over, which is also when its `.partial` files are
 * known to be leftovers.
 */
export async function lockFolder(folder: string): Promise<() => Promise<void>> {
  await mkdir(folder, { recursive: true, mode: 0o700 });
  const file = path.join(folder, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(file, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      return async () => {
        await rm(file, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim());
      if (pid && pid !== process.pid && processAlive(pid)) {
        throw new DbfastError('BACKUP_BUSY', `another dbfast process (pid ${pid}) is creating a backup in ${folder}`, {
          hint: `Wait for it to finish; if no such process runs, delete ${file}.`,
        });
      }
      await rm(file, { force: true });
    }
  }
  throw new DbfastError('BACKUP_BUSY', `cannot take the lock ${file}`, { hint: 'Another backup started at the same moment; try again.' });
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes leftovers of interrupted creates (call with the folder lock held). */
export async function removePartials(folder: string): Promise<string[]> {
  const { partials } = await readFolder(folder);
  for (const name of partials) await rm(path.join(folder, name), { force: true });
  return partials;
}
