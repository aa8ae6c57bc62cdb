import { DbfastError } from '../errors.js';
import type { InterpolationProblem } from './interpolate.js';
import { formatIssues } from './issues.js';
import { configSchemaFor, type ConfigFile } from './schema.js';

/*
 * The type check of dbfast.toml, apart from read.ts (the loader's other steps) because it
 * imports zod, the one slow import: read.ts loads this module only for contents that have not
 * passed before, and this module imports nothing of read.ts, so neither depends on the other.
 */

/** What the type check needs of a read config (read.ts `ConfigSource` has it). */
export interface TypeCheckInput {
  file: string;
  /** Parsed, `${VAR}`s replaced. */
  contents: unknown;
  interpolationProblems: InterpolationProblem[];
}

function problemsError(file: string, lines: string[]): DbfastError {
  return new DbfastError('CONFIG_INVALID', `${file} has ${lines.length} problem${lines.length === 1 ? '' : 's'}:\n  ${lines.join('\n  ')}`, {
    hint: 'Fix the keys named above (the README lists every key of dbfast.toml).',
    details: { problems: lines },
  });
}

/** The type check of dbfast.toml (zod): every problem at once, each with its key path. */
export function typeCheckConfig(source: TypeCheckInput): ConfigFile {
  const result = configSchemaFor(source.contents).safeParse(source.contents);
  const lines = result.success ? [] : formatIssues(result.error.issues, source.contents);
  for (const problem of source.interpolationProblems) lines.push(`${problem.path}: environment variable ${problem.variable} is not set`);
  if (lines.length > 0 || !result.success) throw problemsError(source.file, lines);
  return result.data;
}
