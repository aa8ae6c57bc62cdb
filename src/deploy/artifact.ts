import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { registerCleanup } from '../cleanup.js';
import { localTarget } from '../config/targets.js';
import type { DbfastConfig } from '../config/types.js';
import { dumpDatabase } from '../archive/dump.js';
import type { Logger } from '../logger.js';
import { connect, withClient } from '../pg/client.js';
import { quoteIdent } from '../pg/quote.js';
import { withDatabase, type DbTarget } from '../pg/target.js';
import { sha256 } from '../project/hash.js';
import { buildTemplate, type BuildResult } from '../local/build.js';
import type { TemplateManifest } from '../local/manifest.js';
import { schemaFingerprint, type SchemaFingerprint } from '../validate/fingerprint.js';
import { databaseRequirements, type DatabaseRequirements } from '../validate/requirements.js';
import { rowCounts, type RowCounts } from '../validate/rowcounts.js';

/** The environment's template, dumped and described: what a deploy restores and checks against. */
export interface TemplateArtifact {
  build: BuildResult;
  /** Identifies what was deployed: the manifest's files and filter, not its timestamps. */
  templateHash: string;
  /** Uncompressed custom-format archive in the deploy's work folder. */
  archive: string;
  archiveBytes: number;
  fingerprint: SchemaFingerprint;
  rowCounts: RowCounts;
  requirements: DatabaseRequirements;
}

export function manifestHash(manifest: TemplateManifest): string {
  return sha256(JSON.stringify({ environment: manifest.environment, files: manifest.files, included: manifest.included, filterHash: manifest.filterHash }));
}

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
  const target = localTarget(config);
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

/** The environment's template schema (building the template when stale): what `migrate verify` compares with. */
export async function describeTemplate(config: DbfastConfig, environment: string, logger: Logger): Promise<{ build: BuildResult; fingerprint: SchemaFingerprint }> {
  return withTemplateClone(config, environment, logger, async ({ build, target }) => ({
    build,
    fingerprint: await withClient(target, (client) => schemaFingerprint(client)),
  }));
}

/**
 * Builds the template when stale, then, on a scratch clone (pg_dump needs a database it can
 * connect to), reads what the deploy checks against and dumps it.
 */
export async function prepareTemplateArtifact(
  config: DbfastConfig,
  environment: string,
  workDir: string,
  logger: Logger,
): Promise<TemplateArtifact> {
  return withTemplateClone(config, environment, logger, async ({ build, target: scratchTarget }) => {
    const client = await connect(scratchTarget);
    let described: Pick<TemplateArtifact, 'fingerprint' | 'rowCounts' | 'requirements'>;
    try {
      described = {
        fingerprint: await schemaFingerprint(client),
        rowCounts: await rowCounts(client),
        requirements: await databaseRequirements(client),
      };
    } finally {
      await client.end().catch(() => undefined);
    }
    const archive = path.join(workDir, `${build.template}.dump`);
    const dumped = await dumpDatabase(scratchTarget, archive, { compression: 'none', pgBinDir: config.tools.pgBinDir, logger });
    return { build, templateHash: manifestHash(build.manifest), archive, archiveBytes: dumped.sizeBytes, ...described };
  });
}
