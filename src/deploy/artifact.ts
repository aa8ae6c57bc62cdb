import path from 'node:path';
import type { DbfastConfig } from '../config/types.js';
import { dumpDatabase } from '../archive/dump.js';
import type { Logger } from '../logger.js';
import { connect } from '../pg/client.js';
import { sha256 } from '../project/hash.js';
import type { BuildResult } from '../local/build.js';
import { withTemplateClone } from '../local/scratch.js';
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

/** Identifies what a template holds: its files and filter (not when or where it was built). */
export function manifestHash(manifest: TemplateManifest): string {
  return sha256(JSON.stringify({ environment: manifest.environment, files: manifest.files, included: manifest.included, filterHash: manifest.filterHash }));
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
