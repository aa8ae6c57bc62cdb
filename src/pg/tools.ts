import { existsSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { DbfastError } from '../errors.js';

export type PgTool = 'pg_dump' | 'pg_restore' | 'psql';

export interface ToolInfo {
  tool: PgTool;
  /** Absolute path, or the bare name when found on PATH. */
  path: string;
  version: string;
  major: number;
}

/** `[tools] pg_bin_dir` when set; else PATH. */
export function toolPath(tool: PgTool, pgBinDir?: string): string {
  if (pgBinDir) {
    const candidate = path.join(pgBinDir, tool);
    if (!existsSync(candidate)) {
      throw new DbfastError('TOOL_MISSING', `${tool} is not in ${pgBinDir} ([tools] pg_bin_dir)`, {
        hint: `Point [tools] pg_bin_dir at a folder that has ${tool} (e.g. /usr/lib/postgresql/17/bin).`,
      });
    }
    return candidate;
  }
  return tool;
}

const cache = new Map<string, Promise<ToolInfo>>();

/** Runs `TOOL --version` once per process and parses `pg_dump (PostgreSQL) 15.4 (Debian ...)`. */
export function toolInfo(tool: PgTool, pgBinDir?: string): Promise<ToolInfo> {
  const executable = toolPath(tool, pgBinDir);
  let found = cache.get(executable);
  if (!found) {
    found = (async () => {
      let stdout: string;
      try {
        ({ stdout } = await execa(executable, ['--version']));
      } catch (error) {
        throw new DbfastError('TOOL_MISSING', `cannot run ${executable}: ${(error as Error).message.split('\n')[0]}`, {
          hint: `Install the PostgreSQL client tools (apt-get install postgresql-client) or set [tools] pg_bin_dir.`,
          cause: error,
        });
      }
      const match = /(\d+)(?:\.(\d+))?/.exec(stdout.replace(/^[^)]*\)/, ''));
      if (!match) throw new DbfastError('TOOL_VERSION', `cannot read the version of ${executable} from "${stdout.trim()}"`);
      return { tool, path: executable, version: match[2] ? `${match[1]}.${match[2]}` : (match[1] as string), major: Number(match[1]) };
    })();
    cache.set(executable, found);
    found.catch(() => cache.delete(executable));
  }
  return found;
}

/** Server major version from server_version_num (150004 -> 15). */
export function serverMajor(serverVersionNum: number): number {
  return Math.floor(serverVersionNum / 10000);
}

/**
 * pg_dump refuses servers of a newer major version than itself; pg_restore of an older one
 * may not read the archive a newer pg_dump wrote. Returns a problem description, or undefined.
 */
export function dumpCompatibilityProblem(tool: ToolInfo, serverVersionNum: number): string | undefined {
  const major = serverMajor(serverVersionNum);
  if (tool.major >= major) return undefined;
  return `${tool.tool} ${tool.version} cannot work with a PostgreSQL ${major} server; ${tool.tool} ${major} or newer is needed (install postgresql-client-${major} and set [tools] pg_bin_dir = "/usr/lib/postgresql/${major}/bin")`;
}
