import type pg from 'pg';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';

/** Populated materialized views this role owns, those that read other ones after them. */
const MATERIALIZED_VIEWS = `
WITH RECURSIVE mv AS (
  SELECT c.oid, format('%I.%I', n.nspname, c.relname) AS name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind = 'm' AND c.relispopulated AND pg_has_role(c.relowner, 'USAGE')
), reads AS (
  SELECT DISTINCT r.ev_class AS view, d.refobjid AS uses
    FROM pg_rewrite r JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
   WHERE r.ev_class IN (SELECT oid FROM mv) AND d.refobjid IN (SELECT oid FROM mv) AND d.refobjid <> r.ev_class
), depth AS (
  SELECT oid, 0 AS level FROM mv
  UNION ALL
  SELECT reads.view, depth.level + 1 FROM depth JOIN reads ON reads.uses = depth.oid
)
SELECT mv.name FROM mv JOIN (SELECT oid, max(level) AS level FROM depth GROUP BY oid) AS l USING (oid) ORDER BY l.level, mv.name`;

/**
 * A restored database has no statistics: its first queries would be planned blind. ANALYZE
 * every table, then refresh the populated materialized views (in dependency order, so each is
 * computed with statistics) and analyze them. Runs on the side database before the swap (or
 * after an in-place restore commits). A view that cannot be refreshed is a warning: the data is
 * the backup's either way.
 */
export async function analyzeRestored(client: pg.Client, where: string, logger: Logger): Promise<void> {
  logger.progress({ phase: 'analyze', detail: where });
  await client.query('ANALYZE');
  const views = await client.query<{ name: string }>(MATERIALIZED_VIEWS);
  for (const { name } of views.rows) {
    try {
      await client.query(`REFRESH MATERIALIZED VIEW ${name}`);
      await client.query(`ANALYZE ${name}`);
    } catch (error) {
      logger.warn(`could not refresh materialized view ${name} in ${where}: ${errorMessage(error)}`);
    }
  }
}
