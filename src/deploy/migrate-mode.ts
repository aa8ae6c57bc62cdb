import type pg from 'pg';
import type { RecordedRun } from '../history/run.js';
import { migrationFiles, type MigrationFile } from '../migrate/files.js';
import { runMigrations } from '../migrate/run.js';
import { scopeOf } from '../migrate/scope.js';
import { ensureTrackingTable, writeMigrationRow } from '../migrate/table.js';
import { environmentFiles } from '../project/environments.js';
import type { RemoteContext } from '../remote/context.js';
import type { DeployPolicy } from '../remote/policy.js';
import { preflightError, remotePreflight, type RemotePreflight } from '../remote/preflight.js';
import { validateDatabase, validationError } from '../validate/database.js';
import { DeployHooks } from './deploy-hooks.js';
import type { AfterDeployOptions } from './groups.js';
import { replaceDeploy } from './replace-mode.js';
import type { DeployReport } from './types.js';

/** A migrate-mode deploy: the remote, its record, the policy, and the options that apply. */
export interface MigrateDeployInput {
  ctx: RemoteContext;
  run: RecordedRun;
  policy: DeployPolicy;
  jobs: number;
  lockTimeoutMs?: number | undefined;
  /** Deploy groups and health-check choice for after the migrations. */
  after?: AfterDeployOptions | undefined;
}

type Outcome = Pick<DeployReport, 'mode' | 'previous' | 'migrations' | 'warnings' | 'health' | 'created' | 'groups'>;

/**
 * `dbfast deploy` on a remote whose database is not replaced (allow_destructive = false, or
 * --mode migrate): preflight, lock, backup, pending migrations, the remote's validate queries.
 * Production data stays where it is; nothing is built, restored or swapped. A database that does
 * not exist yet destroys nothing when created: it is made from the template like a replace
 * deploy, with the migrations the template holds recorded as applied.
 */
export async function deployByMigrations(input: MigrateDeployInput): Promise<Outcome> {
  const { ctx, run } = input;
  const pre = await run.clock.run('preflight', () => remotePreflight({ ...ctx, swapNames: false }));
  if (pre.problems.length > 0 || !pre.facts) throw preflightError(ctx.remote.name, pre.problems);
  if (!pre.facts.databaseExists) return createFromTemplate(input, pre);
  run.onRemote = true;
  const hooks = new DeployHooks({ config: ctx.config, remote: ctx.remote, environment: ctx.environment, deployId: run.record.deployId, target: ctx.target, env: ctx.env, logger: ctx.logger, clock: run.clock, after: input.after, notes: run.record.notes });
  try {
    await hooks.pre();
    const outcome = await runMigrations({ scope: scopeOf(ctx), backup: input.policy.backup, lockTimeoutMs: input.lockTimeoutMs, run, afterApply: () => validateAndHooks(input, hooks) });
    return { mode: 'migrate', previous: null, migrations: outcome.applied.map((a) => a.id), warnings: hooks.warnings, health: hooks.healthResult, groups: hooks.groups };
  } finally {
    run.record.hooksOutput = hooks.output.text();
  }
}

async function validateAndHooks(input: MigrateDeployInput, hooks: DeployHooks): Promise<void> {
  const { ctx, run } = input;
  await run.clock.run('validate', async () => {
    const outcome = await validateDatabase(ctx.target, undefined, ctx.remote.validate);
    if (outcome.problems.length === 0) return;
    const backupId = run.record.backupId;
    throw validationError(`database "${ctx.database}" after its migrations`, outcome.problems,
      backupId
        ? `The migrations stay applied. Fix what the queries found, or go back to before this deploy: \`dbfast backup restore --remote ${ctx.remote.name} --backup-id ${backupId}\`.`
        : 'The migrations stay applied (no backup was taken). Fix what the queries found with a new migration.');
  });
  await hooks.afterDeploy(run.record.backupId);
}

/** The first deploy: the template restored into a new database, its migrations recorded as applied; any others applied after. */
async function createFromTemplate(input: MigrateDeployInput, preflight: RemotePreflight): Promise<Outcome> {
  const { ctx, run } = input;
  const [files, templateFiles] = await Promise.all([migrationFiles(ctx.config, ctx.environment), environmentFiles(ctx.config, ctx.environment)]);
  const inTemplate = new Set(templateFiles.map((file) => file.relativePath));
  const recorded = files.filter((file) => inTemplate.has(file.id));
  ctx.logger.info(`database "${ctx.database}" does not exist: creating it from the template, ${recorded.length} migration(s) recorded as applied`);
  const created = await replaceDeploy({ ...input, preflight, prepare: (side) => recordApplied(side, ctx.database, recorded, run.record.deployId) });
  let applied: string[] = [];
  if (recorded.length < files.length) {
    const outcome = await runMigrations({ scope: scopeOf(ctx), backup: false, lockTimeoutMs: input.lockTimeoutMs, run });
    applied = outcome.applied.map((a) => a.id);
  }
  return { mode: 'migrate', previous: null, migrations: applied, created: { migrationsRecorded: recorded.map((m) => m.id) }, warnings: created.hooks.warnings, health: created.hooks.healthResult, groups: created.hooks.groups };
}

/** The template ran these migrations: the new database records them as applied by this deploy. */
async function recordApplied(client: pg.Client, database: string, migrations: readonly MigrationFile[], runId: string): Promise<void> {
  await ensureTrackingTable(client, database);
  for (const m of migrations) await writeMigrationRow(client, { id: m.id, sha256: m.sha256, status: 'success', executionMs: null, error: null, runId });
}
