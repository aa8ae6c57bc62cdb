import { findRemote, remoteTarget } from '../config/targets.js';
import type { DbfastConfig } from '../config/types.js';
import { describeTemplate } from '../deploy/artifact.js';
import { findEnvironment } from '../project/filter.js';
import { silentLogger, type Logger } from '../logger.js';
import { withClient } from '../pg/client.js';
import { databaseName } from '../pg/target.js';
import { compareFingerprints, schemaFingerprint } from '../validate/fingerprint.js';
import { migrationFiles } from './files.js';
import { compareMigrations } from './status.js';
import { readMigrationRows } from './table.js';

export interface MigrateVerifyOptions {
  config: DbfastConfig;
  remote: string;
  /** The environment whose template is the reference; default: the remote's. */
  environment?: string | undefined;
  logger?: Logger | undefined;
  env?: NodeJS.ProcessEnv | undefined;
}

export interface MigrateVerifyReport {
  remote: string;
  database: string;
  environment: string;
  template: string;
  /** The remote's schema is the template's, object by object (owners and grants aside). */
  matches: boolean;
  /** Objects the template has and the remote lacks, one line each (`column app.customer.phone text`). */
  missingInRemote: string[];
  /** Objects the remote has and the template lacks. */
  unexpectedInRemote: string[];
  /** The remote's own pending migrations (of its environment): a reason it may differ. */
  pendingMigrations: string[];
}

/**
 * Compares the remote's schema (as its migrations left it) with the environment's template
 * (built from the schema files when stale): a migration that does not do what the schema
 * files say shows up here. Reads only, on the remote.
 */
export async function migrateVerify(options: MigrateVerifyOptions): Promise<MigrateVerifyReport> {
  const { config } = options;
  const logger = options.logger ?? silentLogger;
  const remote = findRemote(config, options.remote);
  const environment = findEnvironment(config, options.environment ?? remote.environment).name;
  const target = remoteTarget(remote, options.env ?? process.env);
  const [remoteSide, files] = await Promise.all([
    withClient(target, async (client) => ({ fingerprint: await schemaFingerprint(client), rows: await readMigrationRows(client) })),
    migrationFiles(config, remote.environment),
  ]);
  const template = await describeTemplate(config, environment, logger);
  const diff = compareFingerprints(template.fingerprint, remoteSide.fingerprint);
  return {
    remote: remote.name,
    database: databaseName(target),
    environment,
    template: template.build.template,
    matches: diff.missing.length === 0 && diff.unexpected.length === 0,
    missingInRemote: diff.missing,
    unexpectedInRemote: diff.unexpected,
    pendingMigrations: compareMigrations(files, remoteSide.rows).pending,
  };
}
