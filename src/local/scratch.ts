import { randomBytes } from 'node:crypto';
import { registerCleanup } from '../cleanup.js';
import { localTarget } from '../server/managed.js';
import type { DbfastConfig } from '../config/types.js';
import type { Logger } from '../logger.js';
import { withClient } from '../pg/client.js';
import { quoteIdent } from '../pg/quote.js';
import { withDatabase, type DbTarget } from '../pg/target.js';
import { buildTemplate, type BuildResult } from './build.js';

/**
 * Builds the environment's template when stale, clones it into a scratch database (templates
 * refuse connections), runs `use` on the clone, and drops the clone, whatever happens.
 */
export async function withTemplateClone<T>(
  config: DbfastConfig,
  environment: string,
  logger: Logger,
  use: (clone: { build: BuildResult; target: DbTarget }) => Promise<T>,
): Promise<T> {
  const build = await buildTemplate({ config, environment, logger });
  const target = await localTarget(config, process.env, logger);
  const scratch = `${build.template}__dbfast_dump_${randomBytes(4).toString('hex')}`;
  const drop = (): Promise<void> =>
    withClient(target, (client) => client.query(`DROP DATABASE IF EXISTS ${quoteIdent(scratch)} WITH (FORCE)`)).then(() => undefined);
  await withClient(target, (client) => client.query(`CREATE DATABASE ${quoteIdent(scratch)} TEMPLATE ${quoteIdent(build.template)}`));
  const unregister = registerCleanup(drop);
  try {
    return await use({ build, target: withDatabase(target, scratch) });
  } finally {
    await drop().catch((error: unknown) => logger.warn(`could not drop the scratch database "${scratch}": ${String(error)}`));
    unregister();
  }
}
