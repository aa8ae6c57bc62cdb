// TEMPORARY: replaced by the real runner on merge
import { execa } from 'execa';
import { toolPath } from '../dump/tools.js';
import { DbfastError } from '../errors.js';
import { scrub } from '../pg/client.js';
import { childEnv } from '../pg/target.js';
import type { RunFilesOptions, RunFilesResult, SqlFile } from './types.js';

export type * from './types.js';

/** Runs each file with psql until the in-process runner lands. */
export async function runFiles(files: SqlFile[], options: RunFilesOptions): Promise<RunFilesResult> {
  const started = Date.now();
  const psql = toolPath('psql', options.pgBinDir);
  for (const [index, file] of files.entries()) {
    options.logger?.progress({ phase: 'running', done: index, total: files.length, unit: 'files', detail: file.relativePath });
    const args = ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '--dbname', options.target.url, '-f', file.absolutePath];
    const result = await execa(psql, args, { env: childEnv(options.target), reject: false });
    if (result.exitCode !== 0) {
      const stderr = String(result.stderr).trim().replaceAll(file.absolutePath, file.relativePath).replace(/^psql:/, '');
      throw new DbfastError('SQL_ERROR', scrub(stderr, options.target), { details: { file: file.relativePath } });
    }
  }
  return { files: files.length, statements: 0, copyRows: 0, durationMs: Date.now() - started };
}
