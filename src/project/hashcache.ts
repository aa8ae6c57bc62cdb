import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { sha256 } from './hash.js';
import type { ScannedFile } from './scan.js';

/** An include a file makes (`\i` / `\ir`): the included file relative to the repository, and the line. */
export interface IncludeLink {
  relativePath: string;
  line: number;
}

/**
 * Finds the includes a file makes. Passed in by the caller: telling an include from the same
 * bytes inside a string or COPY data takes the SQL reader, which lives above this module.
 */
export type IncludeFinder = (file: ScannedFile) => Promise<IncludeLink[]>;

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
  /** The file's `\i` / `\ir` includes, found when it was hashed (absent: none). */
  includes?: IncludeLink[];
}

interface CacheFile {
  version: 2;
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
    return parsed.version === 2 && parsed.repository === repository ? parsed.entries : {};
  } catch {
    return {};
  }
}

function writeCache(file: string, repository: string, entries: Record<string, CacheEntry>): void {
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify({ version: 2, repository, entries } satisfies CacheFile));
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
 * sha256 of a file read as a stream (a large file is never held), and whether it holds the bytes
 * of an include (`\i`) anywhere: only such files are read again to find their includes.
 */
async function hashFile(file: string): Promise<{ digest: string; mayInclude: boolean }> {
  const hash = createHash('sha256');
  let mayInclude = false;
  let previous = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 16 }) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    if (!mayInclude) mayInclude = (previous === 0x5c && chunk[0] === 0x69) || chunk.includes('\\i');
    previous = chunk[chunk.length - 1] ?? previous;
  }
  return { digest: hash.digest('hex'), mayInclude };
}

/**
 * Content hashes for `files` (same order), and the includes each makes (`findIncludes` reads
 * each file that may include another), using and refreshing the cache. Pass every scanned file,
 * not one environment's: entries for files no longer scanned are pruned. An include that leaves
 * the repository or cannot be read as a name is an error naming file:line.
 */
export async function hashFiles(
  files: readonly ScannedFile[],
  cacheFile: string,
  repository: string,
  findIncludes: IncludeFinder,
): Promise<{ hashes: string[]; includes: IncludeLink[][]; stats: HashStats }> {
  const previous = readCache(cacheFile, repository);
  const entries: Record<string, CacheEntry> = {};
  const hashes: string[] = new Array<string>(files.length);
  const includes: IncludeLink[][] = new Array<IncludeLink[]>(files.length);
  const misses: number[] = [];
  files.forEach((file, index) => {
    const entry = previous[file.relativePath];
    if (trusted(entry, file)) {
      hashes[index] = entry.sha256;
      includes[index] = entry.includes ?? [];
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
        const { digest, mayInclude } = await hashFile(file.absolutePath);
        const found = mayInclude ? (await findIncludes(file)).map(({ relativePath, line }) => ({ relativePath, line })) : [];
        hashes[index] = digest;
        includes[index] = found;
        const entry: CacheEntry = { size: file.size, mtimeMs: file.mtimeMs, ino: file.ino, sha256: digest, hashedAtMs };
        if (found.length > 0) entry.includes = found;
        entries[file.relativePath] = entry;
      }),
    );
  }
  if (misses.length > 0 || Object.keys(previous).length !== files.length) writeCache(cacheFile, repository, entries);
  return { hashes, includes, stats: { hashed: misses.length, cached: files.length - misses.length } };
}
