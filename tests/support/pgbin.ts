import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

function hasServerTools(dir: string): boolean {
  return existsSync(path.join(dir, 'initdb')) && existsSync(path.join(dir, 'pg_ctl')) && existsSync(path.join(dir, 'postgres'));
}

function fromPgConfig(): string | undefined {
  try {
    const dir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return hasServerTools(dir) ? dir : undefined;
  } catch {
    return undefined;
  }
}

function newestDebianDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((name) => /^\d+$/.test(name))
    .sort((a, b) => Number(b) - Number(a));
  for (const version of versions) {
    const dir = path.join(root, version, 'bin');
    if (hasServerTools(dir)) return dir;
  }
  return undefined;
}

function fromPath(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && hasServerTools(dir)) return dir;
  }
  return undefined;
}

/** Server binaries: `pg_config --bindir`, else the newest /usr/lib/postgresql/N/bin, else PATH. */
export function findServerBinDir(): string | undefined {
  return fromPgConfig() ?? newestDebianDir() ?? fromPath();
}
