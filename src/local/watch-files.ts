import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { DbfastError } from '../errors.js';

/**
 * The file-system half of `dbfast watch`: a recursive watcher on the repository that reports,
 * debounced, which SQL paths were touched. It decides nothing about templates.
 *
 * chokidar rather than `fs.watch(dir, { recursive: true })`: on Linux, Node 20's recursive
 * fs.watch is a JavaScript walk of the tree racing the watches it sets up (nodejs/node#48437,
 * "Node 20 recursive file watching is misbehaving on Linux", a confirmed bug), and it reports an
 * editor's rename-over as bare `rename` events. chokidar 4 (Node >= 14.16) watches each folder
 * with inotify, adds folders as they appear, and with `atomic` reports a delete followed by a
 * re-create of the same path within 100 ms (vim, JetBrains, VS Code's safe write) as one change.
 */

/** What touched a path, as the watcher saw it. */
export type TouchKind = 'add' | 'change' | 'unlink' | 'addDir' | 'unlinkDir';

/** One debounced batch: the repository-relative paths touched, each once, in the order first seen. */
export interface TouchBatch {
  paths: string[];
  kinds: Record<string, TouchKind>;
  /** `performance.now()` of the batch's first event (edit-to-refreshed times start there). */
  firstEventAt: number;
}

export interface RepositoryWatcher {
  /** Stops watching; pending batches are dropped. */
  close(): Promise<void>;
}

export interface WatchRepositoryOptions {
  /** Quiet time after the last event before the batch is handed on (editors write in bursts). */
  debounceMs: number;
  onBatch(batch: TouchBatch): void;
  /** The watcher itself failed (e.g. the inotify watch limit); watching may have stopped. */
  onError(error: DbfastError): void;
  /** The repository's name in a project with several: paths are reported as `NAME:path`, as the scan names them. */
  name?: string | undefined;
}

const TOUCH_KINDS: ReadonlySet<string> = new Set<TouchKind>(['add', 'change', 'unlink', 'addDir', 'unlinkDir']);

/** Folders the scanner never reads (project/scan.ts), so nothing in them can change a template. */
const SKIPPED_DIRECTORIES = new Set(['node_modules', '.git', '.dbfast']);

/**
 * Whether a path can hold or be a file the scanner reads. The scanner reads `*.sql` files whose
 * names and folders do not start with a dot; that rule alone drops every editor's side files:
 * vim's `.x.sql.swp` and `4913`, emacs's `#x.sql#` and `.#x.sql`, `x.sql~` backups, and
 * `x.sql.tmp.123` / `x.sql___jb_tmp___` temporaries renamed over the file on save.
 */
export function isWatchedPath(relativePath: string, isDirectory: boolean | undefined): boolean {
  if (relativePath === '') return true;
  const parts = relativePath.split(/[\\/]/);
  if (parts.some((part) => part.startsWith('.') || SKIPPED_DIRECTORIES.has(part))) return false;
  if (isDirectory !== false) return true;
  return (parts[parts.length - 1] as string).toLowerCase().endsWith('.sql');
}

function watchError(root: string, error: unknown): DbfastError {
  const code = (error as NodeJS.ErrnoException).code;
  const limit = code === 'ENOSPC' || code === 'EMFILE';
  return new DbfastError('WATCH_FAILED', `cannot watch ${root}: ${(error as Error).message}`, {
    hint: limit
      ? 'The system ran out of file watches: raise fs.inotify.max_user_watches (sysctl -w fs.inotify.max_user_watches=524288) or close other watchers.'
      : 'Check that the repository folder exists and is readable, then start dbfast watch again.',
    cause: error,
  });
}

/** Starts watching `root` recursively; resolves once the initial tree is being watched. */
export async function watchRepository(root: string, options: WatchRepositoryOptions): Promise<RepositoryWatcher> {
  const watcher: FSWatcher = watch(root, {
    ignoreInitial: true,
    atomic: true,
    persistent: true,
    ignored: (absolute, stats) => !isWatchedPath(path.relative(root, absolute), stats ? stats.isDirectory() : undefined),
  });
  let pending: TouchBatch = { paths: [], kinds: {}, firstEventAt: 0 };
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const flush = (): void => {
    timer = undefined;
    if (closed || pending.paths.length === 0) return;
    const batch = pending;
    pending = { paths: [], kinds: {}, firstEventAt: 0 };
    options.onBatch(batch);
  };
  watcher.on('all', (kind, absolute) => {
    if (!TOUCH_KINDS.has(kind)) return;
    const inRoot = path.relative(root, absolute).split(path.sep).join('/');
    const relative = options.name === undefined ? inRoot : `${options.name}:${inRoot}`;
    if (pending.paths.length === 0) pending.firstEventAt = performance.now();
    if (!(relative in pending.kinds)) pending.paths.push(relative);
    pending.kinds[relative] = kind as TouchKind;
    if (timer) clearTimeout(timer);
    timer = setTimeout(flush, options.debounceMs);
  });
  await new Promise<void>((resolve, reject) => {
    watcher.once('ready', resolve);
    watcher.once('error', (error) => reject(watchError(root, error)));
  });
  watcher.on('error', (error) => options.onError(watchError(root, error)));
  return {
    close: async () => {
      closed = true;
      if (timer) clearTimeout(timer);
      await watcher.close();
    },
  };
}

/**
 * Watches every repository of a project (one recursive watcher each, paths named as the scan
 * names them); closing closes them all. If one cannot be watched, those already started are closed.
 */
export async function watchRepositories(repositories: ReadonlyArray<{ name?: string | undefined; path: string }>, options: WatchRepositoryOptions): Promise<RepositoryWatcher> {
  const started: RepositoryWatcher[] = [];
  try {
    for (const repository of repositories) started.push(await watchRepository(repository.path, { ...options, name: repository.name }));
  } catch (error) {
    await Promise.all(started.map((watcher) => watcher.close()));
    throw error;
  }
  return { close: async () => void (await Promise.all(started.map((watcher) => watcher.close()))) };
}
