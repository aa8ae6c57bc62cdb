import { DbfastError, isDbfastError } from '../errors.js';
import type { RemoteConfig } from '../config/types.js';
import type { DbTarget } from '../pg/target.js';
import { checkRemote } from '../validate/remote-checks.js';
import type { TemplateNeeds } from '../validate/template.js';
import type { CheckResult, ServerFacts } from '../validate/types.js';
import { chooseReplaceMode, type RestoreMode } from './policy.js';

export interface PreflightInput {
  remote: RemoteConfig;
  target: DbTarget;
  pgBinDir?: string | undefined;
  /** The template's needs: a deploy passes what it read from the template it built; a dry run, `readTemplateNeeds`. */
  template?: TemplateNeeds | undefined;
  /** The `side_names` check (default true; see `RemoteCheckInput.swapNames`). */
  swapNames?: boolean | undefined;
}

export interface RemotePreflight {
  checks: CheckResult[];
  facts: ServerFacts | undefined;
  /** swap: restore into a side database and rename it in; in-place: one transaction in the live database. */
  mode: RestoreMode | undefined;
  problems: CheckResult[];
}

/**
 * `checkRemote` (the same checks `remote test` runs) plus the way a deploy or restore would
 * replace the database. Never throws for a failed check: the caller decides (a dry run
 * reports, a deploy refuses with `preflightError`).
 */
export async function remotePreflight(input: PreflightInput): Promise<RemotePreflight> {
  const { checks, facts } = await checkRemoteAgain(input);
  const problems = checks.filter((check) => !check.ok && check.severity === 'error');
  let mode: RestoreMode | undefined;
  // checkPrivileges already failed a missing database the user may not create, and a protected one.
  if (facts && problems.length === 0) mode = chooseReplaceMode(facts);
  return { checks, facts, mode, problems };
}

/**
 * The refusal of a deploy or restore whose preflight found problems: `PREFLIGHT_FAILED`, or
 * the problems' own code when they all have the same one (a role that may not read what
 * pg_dump reads is `PERMISSION_DENIED`, as pg_dump's own refusal would be). `details.preflight`
 * marks it as refused before any change either way.
 */
export function preflightError(remote: string, problems: Array<Pick<CheckResult, 'name' | 'detail' | 'hint' | 'code'>>): DbfastError {
  const lines = problems.map((p) => `${p.name}: ${p.code ? `${p.code}: ` : ''}${p.detail}${p.hint ? `\n    fix: ${p.hint}` : ''}`);
  const codes = new Set(problems.map((p) => p.code));
  const [only] = codes;
  return new DbfastError(codes.size === 1 && only ? only : 'PREFLIGHT_FAILED', `deploy to remote "${remote}" refused before any change:\n  ${lines.join('\n  ')}`, {
    hint: `Fix the checks above (\`dbfast remote test ${remote}\` shows them again), then deploy again.`,
    details: { checks: problems, preflight: true } });
}

/**
 * The checks only read, and may run while another deploy or restore swaps the same database
 * (before this run waits for its lock): that swap ends every session on the live database, ours
 * included. A lost connection is read again, up to four times (3.75 s in all), before it counts
 * as the server's failure.
 */
async function checkRemoteAgain(input: PreflightInput): Promise<Awaited<ReturnType<typeof checkRemote>>> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await checkRemote(input);
    } catch (error) {
      // 0.25, 0.5, 1 and 2 s: a swap that ends sessions again while it retries its rename can take a while under load.
      if (attempt >= 5 || !isDbfastError(error) || error.code !== 'CONNECTION_LOST') throw error;
      await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** (attempt - 1)));
    }
  }
}
