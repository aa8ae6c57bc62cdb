import { DbfastError } from '../errors.js';
import type { DbTarget } from '../pg/target.js';
import { checkConnectivity } from '../validate/connectivity.js';
import { checkPrivileges } from '../validate/privileges.js';
import { checkTools } from '../validate/tools.js';
import type { CheckResult, ServerFacts } from '../validate/types.js';
import { chooseReplaceMode, type RestoreMode } from './policy.js';

export interface RemotePreflight {
  checks: CheckResult[];
  facts: ServerFacts | undefined;
  /** swap: restore into a side database and rename it in; in-place: one transaction in the live database. */
  mode: RestoreMode | undefined;
  problems: CheckResult[];
}

/**
 * Connectivity, privileges and client tools, checked before anything changes. Never throws
 * for a failed check: the caller decides (a dry run reports, a deploy refuses).
 */
export async function remotePreflight(target: DbTarget, pgBinDir: string | undefined): Promise<RemotePreflight> {
  const connectivity = await checkConnectivity(target, { pings: 1 });
  const checks: CheckResult[] = [connectivity.check];
  const facts = connectivity.facts;
  let mode: RestoreMode | undefined;
  if (facts) {
    checks.push(...checkPrivileges(facts));
    checks.push(...(await checkTools(facts.serverVersionNum, pgBinDir)).checks);
    mode = chooseReplaceMode(facts);
    if (!mode) {
      checks.push({
        name: 'database',
        ok: false,
        severity: 'error',
        detail: `database "${facts.database}" does not exist and ${facts.currentUser} may not create databases`,
        hint: `Create it (CREATE DATABASE ... OWNER ${facts.currentUser}) or grant CREATEDB, then deploy again.`,
      });
    }
  }
  const problems = checks.filter((check) => !check.ok && check.severity === 'error');
  return { checks, facts, mode, problems };
}

export function preflightError(remote: string, problems: Array<{ name: string; detail: string; hint?: string | undefined }>): DbfastError {
  const lines = problems.map((p) => `${p.name}: ${p.detail}${p.hint ? `\n    fix: ${p.hint}` : ''}`);
  return new DbfastError('PREFLIGHT_FAILED', `deploy to remote "${remote}" refused before any change:\n  ${lines.join('\n  ')}`, {
    hint: `Fix the checks above (\`dbfast remote test ${remote}\` shows them again), then deploy again.`,
    details: { checks: problems } });
}
