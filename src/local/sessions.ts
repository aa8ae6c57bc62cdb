import type pg from 'pg';
import { DbfastError } from '../errors.js';
import type { Logger } from '../logger.js';
import { describeSession, sessionsOn, terminateSessions, type Session } from '../pg/catalog.js';

/** dbfast names its connections `dbfast ...`; those left behind by a crashed run are safe to end. */
export function isOwnSession(session: Session): boolean {
  return session.application?.startsWith('dbfast') === true;
}

/**
 * Clears the way for a clone: ends dbfast's own leftover sessions on the template, and stops with
 * an error naming everyone else's (a template refuses new connections, so they are deliberate).
 */
export async function clearTemplateSessions(client: pg.Client, template: string, logger: Logger): Promise<void> {
  const sessions = await sessionsOn(client, template);
  if (sessions.length === 0) return;
  const own = sessions.filter(isOwnSession);
  const foreign = sessions.filter((session) => !isOwnSession(session));
  if (foreign.length > 0) throw templateInUse(template, foreign);
  logger.warn(`ending ${own.length} leftover dbfast session${own.length === 1 ? '' : 's'} on ${template}: ${own.map(describeSession).join(', ')}`);
  await terminateSessions(client, template, own.map((session) => session.pid));
}

export function templateInUse(template: string, sessions: readonly Session[]): DbfastError {
  const list = sessions.map((session) => `  ${describeSession(session)}`).join('\n');
  const pids = sessions.map((session) => session.pid).join(', ');
  return new DbfastError(
    'TEMPLATE_IN_USE',
    `cannot clone ${template}: ${sessions.length} other session${sessions.length === 1 ? ' is' : 's are'} connected to it, and PostgreSQL copies a template only when nobody is:\n${list}`,
    {
      hint: `Close ${sessions.length === 1 ? 'that session' : 'those sessions'} (templates refuse new connections, so someone allowed them), or end them with: SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid IN (${pids});`,
      details: { template, sessions }, },
  );
}

export function isSourceInUse(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  return e.code === '55006' && /source database .* is being accessed by other users/.test(e.message ?? '');
}
