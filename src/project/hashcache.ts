import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { sha256 } from './hash.js';
import type { ScannedFile } from './scan.js';

/**
 * sha256 of each file, remembered under `.dbfast/cache/` keyed by (size, mtime, inode), so a
 * staleness check of unchanged files reads no file contents. Staleness is still decided on the
 * content hashes; the cache only avoids recomputing them.
 */
interface CacheEntry {
  size: number;
  mtimeMs: number;
  ino: number;
  sha256: string;
  /** When the hash was computed: an entry is trusted only for files older than that (see RACY_MS). */
  hashedAtMs: number;
}

interface CacheFile {
  version: 1;
  repository: string;
  entries: Record<string, CacheEntry>;
}

/**
 * File timestamps are coarse (a kernel tick on Linux, seconds on some filesystems): a file
 * rewritten right after it was hashed can keep its size and mtime. Like git's "racily clean"
 * rule, an entry hashed less than this long after the file's mtime is re-checked next time.
 */
const RACY_MS = 1000;

export function cacheFilePath(rootDir: string, repositoryPath: string): string {
  return path.join(rootDir, '.dbfast', 'cache', `file-hashes-${sha256(repositoryPath).slice(0, 12)}.json`);
}

function readCache(file: string, repository: string): Record<string, CacheEntry> {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as CacheFile;
    return parsed.version === 1 && parsed.repository === repository ? parsed.entries : {};
  } catch {
    return {};
  }
}

function writeCache(file: string, repository: string, entries: Record<string, CacheEntry>): void {
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify({ version: 1, repository, entries } satisfies CacheFile));
    // Rename is atomic: concurrent dbfast processes never read a half-written cache.
    renameSync(temp, file);
  } catch {
    // The cache is an optimisation; a read-only checkout still works, only slower.
  }
}

function trusted(entry: CacheEntry | undefined, file: ScannedFile): entry is CacheEntry {
  return (
    entry !== undefined &&
    entry.size === file.size &&
    entry.mtimeMs === file.mtimeMs &&
    entry.ino === file.ino &&
    entry.hashedAtMs - file.mtimeMs >= RACY_MS
  );
}

export interface HashStats {
  /** Files whose contents were read and hashed (cache misses). */
  hashed: number;
  cached: number;
}

/**
 * Content hashes for `files` (same order), using and refreshing the cache. Pass every scanned
 * file, not one environment's: entries for files no longer scanned are pruned.
 */
export async function hashFiles(
  files: readonly ScannedFile[],
  cacheFile: string,
  repository: string,
): Promise<{ hashes: string[]; stats: HashStats }> {
  const previous = readCache(cacheFile, repository);
  const entries: Record<string, CacheEntry> = {};
  const hashes: string[] = new Array<string>(files.length);
  const misses: number[] = [];
  files.forEach((file, index) => {
    const entry = previous[file.relativePath];
    if (trusted(entry, file)) {
      hashes[index] = entry.sha256;
      entries[file.relativePath] = entry;
    } else {
      misses.push(index);
    }
  });
  if (misses.length > 0) {
    const hashedAtMs = Date.now();
    await Promise.all(
      misses.map(async (index) => {
        const file = files[index] as ScannedFile;
        const digest = sha256(await readFile(file.absolutePath));
        hashes[index] = digest;
        entries[file.relativePath] = { size: file.size, mtimeMs: file.mtimeMs, ino: file.ino, sha256: digest, hashedAtMs };
      }),
    );
  }
  if (misses.length > 0 || Object.keys(previous).length !== files.length) writeCache(cacheFile, repository, entries);
  return { hashes, stats: { hashed: misses.length, cached: files.length - misses.length } };
}
