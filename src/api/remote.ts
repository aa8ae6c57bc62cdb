/*
 * The library's functions on remotes: reaching one and saying what a run would replace,
 * deploys, rollbacks and their history, migrations, and the webhook server that deploys pushed
 * commits. Each loads its implementation lazily (a dynamic import), so importing the public
 * surface (src/index.ts) stays cheap, and maps operational failures to coded DbfastErrors.
 */
import { withModule, type ConfigSource, type With } from '../config/source.js';

// ---- Reaching a remote ----

/** Connects to a remote and reports version, privileges, tools, TLS and latency; `ok` is false when something needed is missing. */
export async function testRemote(options: ConfigSource & { remote: string }): Promise<import('../validate/remote-test.js').RemoteTestReport> {
  return withModule(options, () => Promise.all([import('../validate/remote-test.js'), import('../config/targets.js')]), ([module, targets], config) =>
    module.testRemote(config, targets.findRemote(config, options.remote), options.env ? { env: options.env } : {}),
  );
}

/**
 * What a run on the remote would replace (its server, database and current size), read-only:
 * what a confirmation prompt shows before `confirmed: true` is passed to `deploy`,
 * `restoreBackup`, `rollback` or `migrateApply`. A database that cannot be reached comes back
 * with `sizeBytes: null`.
 *
 * @example
 * const target = await describeReplacement({ configPath: 'dbfast.toml', remote: 'production' });
 * // { remote: 'production', environment: 'production', server: 'db.example.com:5432', database: 'shop', sizeBytes: 1288490188 }
 */
export async function describeReplacement(options: ConfigSource & { remote: string }): Promise<import('../remote/describe.js').ReplacementTarget> {
  return withModule(options, () => import('../remote/describe.js'), (module, config) => module.describeReplacement(config, options.remote, options.env));
}

// ---- Deploys, rollbacks, history ----

/**
 * Deploys a remote's environment: its template replaces the remote database (side database,
 * checks, swap; the previous one kept for `rollback`), or, where the database may not be
 * replaced, its pending migrations are applied. Production needs `confirmed: true`; without it
 * the call throws CONFIRMATION_REQUIRED before connecting anywhere.
 *
 * @example
 * const report = await deploy({ configPath: 'dbfast.toml', remote: 'staging', confirmed: true });
 * // report = { remote, environment, database, backupId, mode, previous, phases, durationMs, ... }
 */
export async function deploy(options: With<import('../deploy/types.js').DeployOptions>): Promise<import('../deploy/types.js').DeployReport> {
  return withModule(options, () => import('../deploy/deploy.js'), (module, config) => module.deploy({ ...options, config }));
}

/**
 * Runs the repository's `[repository] cluster_setup` files (roles, role memberships: what acts
 * on the whole server and so never travels in a deploy) on a remote, in its maintenance
 * database; idempotent like the local run before a build (skipped when it already ran there and
 * the roles it creates exist, unless `force`). Needs CREATEROLE (PERMISSION_DENIED names it and
 * the ALTER ROLE to run); production remotes need `confirmed: true` (CONFIRMATION_REQUIRED
 * before connecting). `dryRun: true` reports the files, the roles and which are missing, and
 * changes nothing.
 *
 * @example
 * const report = await remoteSetup({ configPath: 'dbfast.toml', remote: 'staging' });
 * // { remote: 'staging', files: ['0_setup/002_roles.sql'], roles: ['authenticator'], missingRoles: ['authenticator'], ran: true, ... }
 */
export async function remoteSetup(options: With<import('../deploy/remote-setup.js').RemoteSetupOptions>): Promise<import('../deploy/remote-setup.js').RemoteSetupReport> {
  return withModule(options, () => import('../deploy/remote-setup.js'), (module, config) => module.remoteSetup({ ...options, config }));
}

/** Swaps the previous database back in (`to` omitted or `previous`), or restores a backup (`to`: its id). */
export async function rollback(options: With<import('../deploy/rollback.js').RollbackOptions>): Promise<import('../deploy/rollback.js').RollbackReport> {
  return withModule(options, () => import('../deploy/rollback.js'), (module, config) => module.rollback({ ...options, config }));
}

/** Deploys, rollbacks and restores of a remote, newest first (its own history, else this machine's). */
export async function history(options: With<import('../history/query.js').HistoryOptions>): Promise<import('../history/query.js').HistoryResult> {
  return withModule(options, () => import('../history/query.js'), (module, config) => module.deployHistory({ ...options, config }));
}

/** Every remote's deploys, rollbacks and restores merged newest first (each read as `history` reads it). */
export async function historyAllRemotes(options: With<import('../history/query.js').AllHistoryOptions> = {}): Promise<import('../history/query.js').AllHistoryResult> {
  return withModule(options, () => import('../history/query.js'), (module, config) => module.allRemotesHistory({ ...options, config }));
}

/** Deploy statistics per remote: success rate, durations, last success and failure. */
export async function stats(options: With<import('../history/stats.js').StatsOptions> = {}): Promise<import('../history/stats.js').StatsResult> {
  return withModule(options, () => import('../history/stats.js'), (module, config) => module.deployStats({ ...options, config }));
}

/** What is live on a remote and whether it is well (connection, history, migrations, backup, health). Reads only. */
export async function remoteStatus(options: With<import('../deploy/remote-status.js').RemoteStatusOptions>): Promise<import('../deploy/remote-status.js').RemoteStatusReport> {
  return withModule(options, () => import('../deploy/remote-status.js'), (module, config) => module.remoteStatus({ ...options, config }));
}

// ---- Migrations ----

/** The repository's migrations against the remote's records: applied, pending, drifted, missing, failed. */
export async function migrateStatus(options: With<import('../migrate/query.js').MigrateQueryOptions>): Promise<import('../migrate/query.js').MigrateStatusReport> {
  return withModule(options, () => import('../migrate/query.js'), (module, config) => module.migrateStatus({ ...options, config }));
}

/** Applies pending migrations (backup first, each in its own transaction); `dryRun` lists them. Production needs `confirmed`. */
export async function migrateApply(options: With<import('../migrate/apply.js').MigrateApplyOptions>): Promise<import('../migrate/apply.js').MigrateApplyReport> {
  return withModule(options, () => import('../migrate/apply.js'), (module, config) => module.migrateApply({ ...options, config }));
}

/** Records migrations as applied without running them (a baseline). Production needs `confirmed`. */
export async function markApplied(options: With<import('../migrate/query.js').MarkAppliedOptions>): Promise<import('../migrate/query.js').MarkAppliedReport> {
  return withModule(options, () => import('../migrate/query.js'), (module, config) => module.markApplied({ ...options, config }));
}

/** The migrations recorded on the remote, oldest first (`limit`: only the newest that many). */
export async function migrateHistory(options: With<import('../migrate/query.js').MigrateHistoryOptions>): Promise<import('../migrate/query.js').MigrateHistoryReport> {
  return withModule(options, () => import('../migrate/query.js'), (module, config) => module.migrateHistory({ ...options, config }));
}

/** The remote's schema against the environment's template, object by object. */
export async function migrateVerify(options: With<import('../migrate/verify.js').MigrateVerifyOptions>): Promise<import('../migrate/verify.js').MigrateVerifyReport> {
  return withModule(options, () => import('../migrate/verify.js'), (module, config) => module.migrateVerify({ ...options, config }));
}

// ---- Webhooks ----

/**
 * Starts the webhook server of `dbfast webhook serve`: deploys each pushed commit that a
 * `[[webhooks.routes]]` entry maps to a remote. Resolves once it listens; call `stop()` on the
 * result to shut it down (running deploys finish first).
 *
 * @example
 * const server = await serveWebhooks({ configPath: 'dbfast.toml', listen: '127.0.0.1:0' });
 * // POST deliveries to `${server.url}/webhook`; later:
 * await server.stop();
 */
export async function serveWebhooks(options: With<import('../webhook/server.js').ServeWebhooksOptions>): Promise<import('../webhook/server.js').WebhookServer> {
  return withModule(options, () => import('../webhook/server.js'), (module, config) => module.serveWebhooks({ ...options, config, env: options.env }));
}

/** The webhook deliveries recorded on the local server (`dbfast.webhook_events`), newest first. */
export async function webhookEvents(options: ConfigSource & { limit?: number | undefined }): Promise<import('../webhook/store.js').WebhookEvent[]> {
  return withModule(options, () => Promise.all([import('../webhook/store.js'), import('../server/managed.js')]), async ([store, managed], config) =>
    store.readWebhookEvents(await managed.localTarget(config, options.env), options.limit ?? 50),
  );
}
