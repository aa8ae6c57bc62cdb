import type pg from 'pg';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { quoteIdent, quoteLiteral } from '../pg/quote.js';
import type { ClusterSetupState } from '../sql/cluster-setup.js';

/** The start of dbfast's line in the role's comment; the project's `template_name` follows (unique on a server). */
const LINE_PREFIX = 'dbfast cluster setup ';

/**
 * Where `dbfast remote setup` records what ran on a remote: a line in the comment of the role it
 * connects as (`dbfast cluster setup <template_name>: <sha256> <time>`), in pg_shdescription, a
 * shared catalog. Any machine that deploys the project as that role reads it, where the project's
 * `.dbfast/cache` is one machine's: without it, a second machine would run a `DROP ROLE` /
 * `CREATE ROLE` script again, which fails once databases use the roles. Nothing goes into the
 * user's databases; the comment's other lines (the user's own text) are kept as they are.
 * `template_name` keys the line because templates are named after it, so two projects on one
 * server already cannot share it. `fallback` (the local cache) answers for setups recorded before
 * dbfast kept the record on the remote, and is written too.
 */
export function roleCommentState(client: pg.Client, templateName: string, fallback: ClusterSetupState, logger: Logger): ClusterSetupState & { onRemote(): Promise<string | undefined> } {
  const key = `${LINE_PREFIX}${templateName}: `;
  const readRole = async (): Promise<{ role: string; comment: string }> => {
    const row = (await client.query<{ role: string; comment: string | null }>("SELECT rolname AS role, shobj_description(oid, 'pg_authid') AS comment FROM pg_catalog.pg_roles WHERE rolname = current_user")).rows[0];
    return { role: row?.role ?? '', comment: row?.comment ?? '' };
  };
  const onRemote = async (): Promise<string | undefined> => {
    const line = (await readRole()).comment.split('\n').find((entry) => entry.startsWith(key));
    return line?.slice(key.length).split(' ')[0];
  };
  return {
    /** The hash recorded on the remote only (not the local cache's). */
    onRemote,
    applied: async () => (await onRemote()) ?? (await fallback.applied()),
    record: async (hash) => {
      await fallback.record(hash);
      try {
        const { role, comment } = await readRole();
        const kept = comment === '' ? [] : comment.split('\n').filter((entry) => !entry.startsWith(key));
        const text = [...kept, `${key}${hash} ${new Date().toISOString()}`].join('\n');
        // COMMENT takes no parameters: the text goes in as a quoted literal.
        await client.query(`COMMENT ON ROLE ${quoteIdent(role)} IS ${quoteLiteral(text)}`);
      } catch (error) {
        logger.warn(`the cluster setup ran, but could not be recorded on the remote (a comment on the connecting role): ${errorMessage(error)}; only this machine knows it ran`);
      }
    },
  };
}
