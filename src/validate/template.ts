import { randomBytes } from 'node:crypto';
import { registerCleanup } from '../cleanup.js';
import { localTarget, runningManagedTarget } from '../server/managed.js';
import type { DbfastConfig } from '../config/types.js';
import { errorMessage } from '../errors.js';
import type { BuildResult } from '../local/build.js';
import { withTemplateClone } from '../local/scratch.js';
import { templateDatabaseName } from '../local/names.js';
import { status } from '../local/status.js';
import type { Logger } from '../logger.js';
import { withClient } from '../pg/client.js';
import { quoteIdent } from '../pg/quote.js';
import { withDatabase } from '../pg/target.js';
import { schemaFingerprint, type SchemaFingerprint } from './fingerprint.js';
import { databaseRequirements, type DatabaseRequirements } from './requirements.js';

/** The environment's template schema (building the template when stale): what `migrate verify` compares with. */
export async function describeTemplate(config: DbfastConfig, environment: string, logger: Logger): Promise<{ build: BuildResult; fingerprint: SchemaFingerprint }> {
  return withTemplateClone(config, environment, logger, async ({ build, target }) => ({
    build,
    fingerprint: await withClient(target, (client) => schemaFingerprint(client)),
  }));
}

/**
 * What a deploy's template needs from the remote (roles, extensions), or why that is not known.
 * A deploy passes what it read from the template it just built; `remote test` and dry runs pass
 * what `readTemplateNeeds` read from the template as it is now.
 */
export type TemplateNeeds =
  | { template: string; requirements: DatabaseRequirements; source: string }
  | { template: string; requirements?: undefined; unavailable: string };

/**
 * Reads the requirements of the environment's template as last built, without building it:
 * on a scratch clone (templates refuse connections), dropped at once. A missing template or an
 * unreachable local server is an answer ("unavailable"), not a failure; so is a stopped managed
 * server, which is never started for this.
 */
export async function readTemplateNeeds(config: DbfastConfig, environment: string): Promise<TemplateNeeds> {
  let template = environment;
  try {
    // Callers only read (doctor, `remote test`, dry runs): a stopped managed server stays stopped.
    if (config.database.server === 'managed' && !runningManagedTarget(config.env)) {
      return { template: templateDatabaseName(config, environment), unavailable: 'managed server stopped: not checked (`dbfast server start` to check the template\'s roles and extensions)' };
    }
    const found = (await status({ config, environment })).environments[0];
    if (!found) return { template, unavailable: `environment "${environment}" has no template` };
    template = found.template;
    if (found.state === 'missing' || found.problem) {
      return { template, unavailable: found.problem ?? `template ${template} is not built yet: the roles and extensions it needs are checked when a deploy builds it` };
    }
    const local = await localTarget(config);
    const scratch = `${template}__dbfast_dump_${randomBytes(4).toString('hex')}`;
    const drop = (): Promise<void> => withClient(local, (client) => client.query(`DROP DATABASE IF EXISTS ${quoteIdent(scratch)} WITH (FORCE)`)).then(() => undefined);
    await withClient(local, (client) => client.query(`CREATE DATABASE ${quoteIdent(scratch)} TEMPLATE ${quoteIdent(template)}`));
    const unregister = registerCleanup(drop);
    try {
      const requirements = await withClient(withDatabase(local, scratch), databaseRequirements);
      const source = found.state === 'fresh' ? `template ${template} (fresh)` : `template ${template} as last built (stale: a deploy rebuilds it and checks again)`;
      return { template, requirements, source };
    } finally {
      await drop().catch(() => undefined);
      unregister();
    }
  } catch (error) {
    return { template, unavailable: `cannot read template ${template} on the local server: ${errorMessage(error)}` };
  }
}
