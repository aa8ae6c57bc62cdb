import type { DbfastConfig } from '../config/types.js';
import type { BuildResult } from '../local/build.js';
import { withTemplateClone } from '../local/scratch.js';
import type { Logger } from '../logger.js';
import { withClient } from '../pg/client.js';
import { schemaFingerprint, type SchemaFingerprint } from './fingerprint.js';

/** The environment's template schema (building the template when stale): what `migrate verify` compares with. */
export async function describeTemplate(config: DbfastConfig, environment: string, logger: Logger): Promise<{ build: BuildResult; fingerprint: SchemaFingerprint }> {
  return withTemplateClone(config, environment, logger, async ({ build, target }) => ({
    build,
    fingerprint: await withClient(target, (client) => schemaFingerprint(client)),
  }));
}
