import type { DbfastConfig } from '../config/types.js';
import { describeTemplate } from '../validate/template.js';
import { findEnvironment } from '../project/filter.js';
import type { Logger } from '../logger.js';
import { withClient } from '../pg/client.js';
import { resolveRemoteContext } from '../remote/context.js';
import { compareFingerprints, schemaFingerprint } from '../validate/fingerprint.js';
import { migrationFiles } from './files.js';
import { compareMigrations } from './status.js';
import { readMigrationRows } from './table.js';

/** Which remote, and which environment's template is the reference. */
export interface MigrateVerifyOptions {
  config: DbfastConfig;
  remote: string;
  /** The environment whose template is the reference; default: the remote's. */
  environment?: string | undefined;
  logger?: Logger | undefined;
  env?: NodeJS.ProcessEnv | undefined;
}

/** Where the remote's schema differs from the template's. */
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
  // The reference may be another environment's template: only the remote is resolved here.
  const { config, remote, target, database, logger } = resolveRemoteContext({ config: options.config, remote: options.remote, logger: options.logger, env: options.env });
  const environment = findEnvironment(config, options.environment ?? remote.environment).name;
  const [remoteSide, files] = await Promise.all([
    withClient(target, async (client) => ({ fingerprint: await schemaFingerprint(client), rows: await readMigrationRows(client) })),
    migrationFiles(config, remote.environment),
  ]);
  const template = await describeTemplate(config, environment, logger);
  const diff = compareFingerprints(template.fingerprint, remoteSide.fingerprint);
  return {
    remote: remote.name,
    database,
    environment,
    template: template.build.template,
    matches: diff.missing.length === 0 && diff.unexpected.length === 0,
    missingInRemote: diff.missing,
    unexpectedInRemote: diff.unexpected,
    pendingMigrations: compareMigrations(files, remoteSide.rows).pending,
  };
}
