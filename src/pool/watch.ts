import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';

/**
 * Tells the pool when the files its template is built from may have changed, so the next lease
 * waits for a rebuild instead of handing out a clone of the old build. One non-recursive watch
 * per folder that holds SQL files (and each folder above it up to the repository, which sees new
 * folders appear), plus the config file's folder; the set is renewed after every rebuild. Hidden
 * entries (.dbfast caches, editors' swap files) are ignored. Watches never keep the process alive.
 */
export class FileWatcher {
  private readonly watchers = new Map<string, FSWatcher>();
  private closed = false;
  private debounce: NodeJS.Timeout | undefined;

  /**
   * `changed` runs at once on every relevant event (SQL files, folders, config files; not the
   * rest of a project folder); `settled` once the events stop for 50 ms, since editors write a
   * file in several steps.
   */
  constructor(
    private readonly changed: () => void,
    private readonly settled: () => void,
  ) {}

  private onChange(file: string): void {
    if (this.closed || (!/\.(sql|toml)$/i.test(file) && /\.[^/\\]+$/.test(file))) return;
    this.changed();
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => this.settled(), 50);
    this.debounce.unref();
  }

  /** Watches exactly these folders from now on (new ones added, gone ones dropped). */
  update(folders: readonly string[]): void {
    if (this.closed) return;
    const wanted = new Set(folders.map((folder) => path.resolve(folder)));
    for (const [folder, watcher] of this.watchers) {
      if (wanted.has(folder)) continue;
      watcher.close();
      this.watchers.delete(folder);
    }
    for (const folder of wanted) {
      if (this.watchers.has(folder)) continue;
      try {
        const watcher = watch(folder, { persistent: false }, (_event, name) => {
          const file = name?.toString() ?? '';
          if (file.startsWith('.')) return;
          this.onChange(path.join(folder, file));
        });
        // A watched folder that is removed or renamed is itself a change.
        watcher.on('error', () => {
          watcher.close();
          this.watchers.delete(folder);
          this.onChange(folder);
        });
        this.watchers.set(folder, watcher);
      } catch {
        // Missing folder (removed since the scan): its parent's watch reports that.
      }
    }
  }

  get watching(): number {
    return this.watchers.size;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.debounce);
    for (const watcher of this.watchers.values()) watcher.close();
    this.watchers.clear();
  }
}

/** The folders to watch for a repository: those holding the given files, every folder between them and the root, and extras. */
export function foldersToWatch(repository: string, files: readonly string[], extra: readonly string[]): string[] {
  const root = path.resolve(repository);
  const folders = new Set<string>([root, ...extra.map((folder) => path.resolve(folder))]);
  for (const file of files) {
    for (let folder = path.dirname(path.resolve(root, file)); folder.startsWith(root) && !folders.has(folder); folder = path.dirname(folder)) {
      folders.add(folder);
    }
  }
  return [...folders];
}
