/** A deploy that replaces the live database with the environment's template (or creates it). */
import type pg from 'pg';
import { createBackup } from '../backup/create.js';
import { prepareRestore, restorePrepared } from '../backup/restore.js';
import { backupScope } from '../backup/scope.js';
import { DbfastError } from '../errors.js';
import { PhaseClock } from '../history/phases.js';
import type { RecordedRun } from '../history/run.js';
import { DBFAST_SCHEMA } from '../history/schema.js';
import { withClient } from '../pg/client.js';
import { checkSettingsAllowed, settingsStatements } from '../pg/db-properties.js';
import { withDatabaseLock } from '../pg/lock.js';
import type { DbTarget } from '../pg/target.js';
import type { RemoteContext } from '../remote/context.js';
import { swapNames } from '../remote/names.js';
import type { DeployPolicy, RestoreMode } from '../remote/policy.js';
import { preflightError, remotePreflight, type RemotePreflight } from '../remote/preflight.js';
import { clearPublicSql } from '../replace/clear-public.js';
import { replaceInPlace } from '../replace/in-place.js';
import { countCheckSql, dropSchemasSql } from '../replace/in-place-sql.js';
import { refuseForeignPrevious } from '../replace/leftover.js';
import { replaceThroughSide } from '../replace/side.js';
import type { ArchiveSource } from '../replace/source.js';
import { validateDatabase, validationError } from '../validate/database.js';
import { listSchemas } from '../validate/tables.js';
import { prepareTemplateArtifact, type TemplateArtifact } from './artifact.js';
import { DeployHooks } from './deploy-hooks.js';
import type { AfterDeployOptions } from './groups.js';
import { withWorkDir } from './workdir.js';

/** A deploy that replaces (or creates) the database: the remote, its record, the policy, the options. */
export interface ReplaceDeployInput {
  ctx: RemoteContext;
  run: RecordedRun;
  policy: DeployPolicy;
  /** pg_restore jobs for the side database. */
  jobs: number;
  lockTimeoutMs?: number | undefined;
  /** Preflight already run (a migrate deploy that found no database); else it runs here. */
  preflight?: RemotePreflight | undefined;
  /** On the new database, before it goes live (a first migrate deploy records its migrations there). */
  prepare?: ((side: pg.Client, artifact: TemplateArtifact) => Promise<void>) | undefined;
  /** Deploy groups and health-check choice for after the database is live. */
  after?: AfterDeployOptions | undefined;
}

/** How the database was replaced, where the old one is, and what the hooks said. */
export interface ReplaceDeployOutcome {
  mode: RestoreMode;
  /** Where the replaced database is kept, or null. */
  previous: string | null;
  hooks: DeployHooks;
}

/**
 * Preflight, then under the database's lock: the template built and dumped, its requirements
 * checked on the remote, pre hooks, a backup, and the replace itself (through a side database,
 * or in place without CREATEDB), then the checks again on the live name, post hooks and health.
 */
export async function replaceDeploy(input: ReplaceDeployInput): Promise<ReplaceDeployOutcome> {
  const { ctx, run } = input;
  const hooks = new DeployHooks({ config: ctx.config, remote: ctx.remote, environment: ctx.environment, deployId: run.record.deployId, target: ctx.target, env: ctx.env, logger: ctx.logger, clock: run.clock, after: input.after, notes: run.record.notes });
  try {
    const pre = input.preflight ?? (await run.clock.run('preflight', () => remotePreflight({ ...ctx, swapNames: false })));
    if (pre.problems.length > 0 || !pre.facts || !pre.mode) throw preflightError(ctx.remote.name, pre.problems);
    const { facts, mode } = pre;
    run.onRemote = facts.databaseExists;
    const names = swapNames(ctx.database, 'deploy');
    const lock = { timeoutMs: input.lockTimeoutMs, logger: ctx.logger, avoid: [...names.sides, names.previous] };
    return await withDatabaseLock(ctx.target, ctx.database, lock, (admin) =>
      withWorkDir(ctx.config.rootDir, async (workDir) => {
        // A database on the previous name that dbfast did not keep: refused before the build and the backup.
        if (mode === 'swap') await refuseForeignPrevious(admin.client, names.live, names.previous);
        const artifact = await run.clock.run('build', () => prepareTemplateArtifact(ctx.config, ctx.environment, workDir, ctx.logger));
        run.record.templateHash = artifact.templateHash;
        // The same checks again, now with what the built template needs: what `remote test` and --dry-run report.
        const template = { template: artifact.build.template, requirements: artifact.requirements, source: `template ${artifact.build.template} (built for this deploy)` };
        const checked = await remotePreflight({ ...ctx, template, swapNames: false });
        if (checked.problems.length > 0) throw preflightError(ctx.remote.name, checked.problems);
        // A setting the role may not make would fail at the swap: refuse now, before the backup and the restore.
        if (facts.databaseExists) await checkSettingsAllowed(admin.client, ctx.database, artifact.settings);
        await hooks.pre();
        if (input.policy.backup && facts.databaseExists) {
          const created = await run.clock.run('backup', () => createBackup(backupScope(ctx.config, ctx.remote.name, { logger: ctx.logger, env: ctx.env }), { lockTimeoutMs: input.lockTimeoutMs }));
          run.record.backupId = created.backup.id;
          ctx.logger.info(`backup ${created.backup.id} written and verified`);
        }
        const source: ArchiveSource = {
          label: `template ${artifact.build.template}`,
          open: () => Promise.resolve({ input: artifact.archive }),
          compression: 'none',
          jobs: input.jobs,
          totalRows: Object.values(artifact.rowCounts).reduce((sum, n) => sum + n, 0),
          // Owners on a developer's server mean nothing on a remote: kept only with no_owner = false.
          noOwner: !ctx.remote.templateOwners,
        };
        if (mode === 'swap') {
          const prepare = input.prepare;
          const swap = await replaceThroughSide({
            ctx, clock: run.clock, state: run, source, admin: admin.client, names,
            check: (side) => checkNew(side, artifact, ctx, `the new database "${names.side}"`, 'The live database was not touched. Fix the template or the validate queries, then deploy again.'),
            prepare: prepare ? (side) => prepare(side, artifact) : undefined,
            keepPrevious: ctx.remote.keepPrevious,
            settings: artifact.settings,
            afterLive: async () => {
              await run.clock.run('verify', () => verifyLive(ctx));
              await hooks.afterDeploy(run.record.backupId);
            },
          });
          return { mode, previous: swap.previous, hooks };
        }
        await deployInPlace(input, admin.client, artifact, source, hooks);
        return { mode, previous: null, hooks };
      }),
    );
  } finally {
    run.record.hooksOutput = hooks.output.text();
  }
}

/** The template replaces the live database's schemas inside one transaction; a failure after COMMIT restores the backup. */
async function deployInPlace(input: ReplaceDeployInput, admin: pg.Client, artifact: TemplateArtifact, source: ArchiveSource, hooks: DeployHooks): Promise<void> {
  const { ctx, run } = input;
  ctx.logger.info(`the remote user cannot create databases: replacing "${ctx.database}" in place, in one transaction`);
  const liveSchemas = (await withClient(ctx.target, (client) => listSchemas(client))).filter((schema) => schema !== DBFAST_SCHEMA);
  const expected = Object.entries(artifact.rowCounts).map(([name, rows]) => {
    const dot = name.indexOf('.');
    return { schema: name.slice(0, dot), table: name.slice(dot + 1), rows };
  });
  const backupId = run.record.backupId;
  await replaceInPlace({
    ctx, clock: run.clock, state: run, source,
    before: `${dropSchemasSql(liveSchemas)}\n${clearPublicSql()}`,
    // The template's database settings, in the same transaction: a refused one rolls the whole replace back.
    after: [countCheckSql(expected, `template ${artifact.build.template}`), ...settingsStatements(ctx.database, artifact.settings)].join('\n'),
    endSessions: false,
    afterCommit: async () => {
      await run.clock.run('validate', () => checkNew(ctx.target, artifact, ctx, `database "${ctx.database}" after the in-place restore`, 'Fix the template or the validate queries.'));
      await hooks.afterDeploy(backupId);
    },
    // Under the lock this deploy holds; needs no privilege the deploy did not need.
    undo: backupId
      ? { label: `backup ${backupId}`, run: async () => void (await restorePrepared(ctx, await prepareRestore(ctx, { backupId, confirmed: true }), { clock: new PhaseClock(ctx.logger), state: run, admin })) }
      : { impossible: 'No backup was taken before this deploy' },
  });
}

/** The template's schema fingerprint and row counts, and the remote's validate queries. */
async function checkNew(target: DbTarget, artifact: TemplateArtifact, ctx: RemoteContext, where: string, hint: string): Promise<void> {
  const outcome = await validateDatabase(target, artifact, ctx.remote.validate);
  if (outcome.problems.length > 0) throw validationError(where, outcome.problems, hint);
}

/** The validate queries again, on the live name: what the application now sees. */
async function verifyLive(ctx: RemoteContext): Promise<void> {
  const outcome = await validateDatabase(ctx.target, undefined, ctx.remote.validate).catch((error: unknown) => ({ problems: [String((error as Error).message ?? error)] }));
  if (outcome.problems.length === 0) return;
  throw new DbfastError('POST_SWAP_CHECK_FAILED', `checks after the swap failed:\n  ${outcome.problems.join('\n  ')}`, {
    hint: 'Fix the validate queries or the template, then deploy again.',
    details: { problems: outcome.problems },
  });
}
