import { randomBytes } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline as streamPipeline, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { registerCleanup } from '../../cleanup.js';
import { CountingStream } from '../../archive/streams.js';
import { DbfastError } from '../../errors.js';
import { operationalError } from '../../failure/operational.js';
import { processRunning, processStartTime } from '../../server/postmaster.js';
import type { BackupStorage, IncompleteWrite, StorageLock, StoredObject, TransferOptions } from './types.js';

export const PARTIAL_SUFFIX = '.partial';
const LOCK_FILE = '.create.lock';

/** fsync a folder so a rename in it survives a crash. */
export async function syncFolder(folder: string): Promise<void> {
  const handle = await open(folder, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Backups in a local folder (today's behaviour): a put streams into `<name>.<hex>.partial`
 * (created exclusively, fsynced), is renamed into place and the folder fsynced; the lock is a
 * file holding our pid, taken over once that pid is gone.
 */
export class DirectoryStorage implements BackupStorage {
  readonly kind = 'directory' as const;

  constructor(readonly location: string) {}

  describe(name: string): string {
    return path.join(this.location, name);
  }

  async put(name: string, body: Readable, options: TransferOptions = {}): Promise<{ sizeBytes: number }> {
    await mkdir(this.location, { recursive: true, mode: 0o700 });
    const final = this.describe(name);
    const temp = `${final}.${randomBytes(3).toString('hex')}${PARTIAL_SUFFIX}`;
    const unregister = registerCleanup(() => rm(temp, { force: true }));
    try {
      const handle = await open(temp, 'wx', 0o600);
      const counter = new CountingStream(options.onBytes);
      await pipeline(body, counter, handle.createWriteStream({ flush: true }), ...(options.signal ? [{ signal: options.signal }] : []));
      await rename(temp, final);
      await syncFolder(this.location);
      return { sizeBytes: counter.bytes };
    } catch (error) {
      body.destroy();
      await rm(temp, { force: true });
      // A full disk or a folder we may not write: named, with the folder to look at.
      throw operationalError(error, { path: temp, doing: `writing ${final}` }) ?? error;
    } finally {
      unregister();
    }
  }

  async get(name: string, options: TransferOptions = {}): Promise<Readable> {
    const file = this.describe(name);
    // Open first, so a missing file fails here and not in the middle of a pipeline.
    const handle = await open(file, 'r').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') throw missing(file);
      throw error;
    });
    return counted(createReadStream(file, { fd: handle, highWaterMark: 1024 * 1024, ...(options.signal ? { signal: options.signal } : {}) }), options.onBytes);
  }

  async head(name: string): Promise<StoredObject | undefined> {
    const info = await stat(this.describe(name)).catch(() => undefined);
    return info?.isFile() ? { name, sizeBytes: info.size, modifiedAt: info.mtime } : undefined;
  }

  async list(): Promise<StoredObject[]> {
    const names = await this.names();
    const objects: StoredObject[] = [];
    for (const name of names) {
      if (name.endsWith(PARTIAL_SUFFIX) || name === LOCK_FILE) continue;
      const object = await this.head(name);
      if (object) objects.push(object);
    }
    return objects;
  }

  async delete(name: string): Promise<void> {
    await rm(this.describe(name), { force: true });
    await syncFolder(this.location).catch(() => undefined);
  }

  async incomplete(): Promise<IncompleteWrite[]> {
    return (await this.names())
      .filter((name) => name.endsWith(PARTIAL_SUFFIX))
      .map((label) => ({ name: label.slice(0, -PARTIAL_SUFFIX.length).replace(/\.[0-9a-f]{6}$/, ''), label }));
  }

  async removeIncomplete(): Promise<string[]> {
    const leftovers = await this.incomplete();
    for (const { label } of leftovers) await rm(this.describe(label), { force: true });
    return leftovers.map((l) => l.label);
  }

  async lock(): Promise<StorageLock> {
    const lock = await this.takeLock();
    if (lock.held) return lock.held;
    throw new DbfastError('BACKUP_BUSY', `another dbfast process (pid ${lock.holder}) is creating a backup in ${this.location}`, {
      hint: `Wait for it to finish; if no such process runs, delete ${this.describe(LOCK_FILE)}.`,
    });
  }

  async tryLock(): Promise<StorageLock | undefined> {
    return (await this.takeLock()).held;
  }

  private async takeLock(): Promise<{ held?: StorageLock; holder?: number }> {
    await mkdir(this.location, { recursive: true, mode: 0o700 });
    const file = this.describe(LOCK_FILE);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        // The pid and its start time: a lock whose pid now belongs to another process is stale.
        await writeFile(file, `${process.pid} ${processStartTime(process.pid) ?? ''}\n`, { flag: 'wx', mode: 0o600 });
        return { held: { release: () => rm(file, { force: true }) } };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const [pidText, started] = (await readFile(file, 'utf8').catch(() => '')).trim().split(/\s+/);
        const pid = Number(pidText);
        if (pid && pid !== process.pid && processRunning(pid, started || undefined)) return { holder: pid };
        // The holder was killed: its lock (and its leftovers) are ours to clean.
        await rm(file, { force: true });
      }
    }
    throw new DbfastError('BACKUP_BUSY', `cannot take the lock ${file}`, { hint: 'Another backup started at the same moment; try again.' });
  }

  private async names(): Promise<string[]> {
    try {
      return await readdir(this.location);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }
}

/** `stream`, reporting the bytes read through it (errors pass through both ways). */
export function counted(stream: Readable, onBytes: ((total: number) => void) | undefined): Readable {
  if (!onBytes) return stream;
  const counter = new CountingStream(onBytes);
  streamPipeline(stream, counter, () => undefined);
  return counter;
}

function missing(where: string): DbfastError {
  return new DbfastError('BACKUP_OBJECT_MISSING', `${where} does not exist`, {
    hint: 'It was deleted or never written; list the backups with `dbfast backup list --remote NAME`.',
  });
}
