import { migrationFiles } from '../migrate/files.js';
import { selectMigrations } from '../migrate/run.js';
import { scopeOf } from '../migrate/scope.js';
import { environmentFiles } from '../project/environments.js';
import { withClient } from '../pg/client.js';
import { maskUrl } from '../pg/target.js';
import { status } from '../local/status.js';
import type { RemoteContext } from '../remote/context.js';
import { swapNames } from '../remote/names.js';
import { chooseReplaceMode, type DeployPolicy, type RestoreMode } from '../remote/policy.js';
import { remotePreflight, type RemotePreflight } from '../remote/preflight.js';
import { readTemplateNeeds, type TemplateNeeds } from '../validate/template.js';
import { failed, passed, type CheckResult } from '../validate/types.js';
import { describeGroup, type AfterDeployOptions } from './groups.js';
import type { HealthCheck } from './health.js';
import { planHooks, type HooksPlan } from './hook-plan.js';

/** One deploy group in a dry run: whether it would run, and what it would do. */
export interface GroupPlan {
  name: string;
  order: number;
  /** Would run (else left out by --group / --skip-group: `reason`). */
  selected: boolean;
  reason: string | null;
  /** Its SQL files in run order (empty for a group left out: they are not looked for). */
  files: string[];
  commands: string[];
  pre: string[];
  post: string[];
  requiredEnv: string[];
  /** Null when it has none or --no-health-check. */
  healthCheck: HealthCheck | null;
}

/** What the dry run is told about groups and checks besides the policy. */
export interface PlanAfterDeploy {
  after: AfterDeployOptions;
  /** Required variables (hooks' and groups') not set now. */
  missingEnv: string[];
  skipValidation: boolean;
}

const NO_AFTER: PlanAfterDeploy = { after: { groups: [], skipped: [], sequence: [], continueOnFailure: false, healthChecks: true }, missingEnv: [], skipValidation: false };

/** The groups' part of the plan: entries, the steps they add (before the post hooks), and the required_env check. */
function planGroups(input: PlanAfterDeploy, hookChecks: CheckResult[], requiredEnv: string[]): { groups: GroupPlan[]; steps: string[]; checks: CheckResult[] } {
  const { after } = input;
  const groups: GroupPlan[] = [
    ...after.groups.map((group): GroupPlan => ({
      name: group.name, order: group.order, selected: true, reason: null, files: group.sqlFiles.map((file) => file.relativePath), commands: group.commands,
      pre: group.pre, post: group.post, requiredEnv: group.requiredEnv, healthCheck: after.healthChecks ? (group.healthCheck ?? null) : null,
    })),
    ...after.skipped.map((group): GroupPlan => ({ name: group.name, order: group.order, selected: false, reason: group.reason, files: [], commands: [], pre: [], post: [], requiredEnv: [], healthCheck: null })),
  ].sort((a, b) => after.sequence.indexOf(a.name) - after.sequence.indexOf(b.name));
  const onFailure = after.continueOnFailure ? 'a failure only warns (--continue-on-failure)' : 'a failure rolls the deploy back';
  const steps = [
    ...after.groups.map((group) => `${describeGroup(group, after.healthChecks)} (${onFailure})`),
    ...after.skipped.map((group) => `group ${group.name}: not run (${group.reason})`),
  ];
  const wanted = [...new Set([...requiredEnv, ...after.groups.flatMap((group) => group.requiredEnv)])];
  const checks = hookChecks.filter((check) => check.name !== 'required_env');
  if (wanted.length > 0) {
    if (input.skipValidation) checks.push(passed('required_env', `not checked (--skip-validation)${input.missingEnv.length > 0 ? `; not set: ${input.missingEnv.join(', ')}` : ''}`));
    else if (input.missingEnv.length > 0) checks.push(failed('required_env', `not set: ${input.missingEnv.join(', ')}`, `Export ${input.missingEnv.join(', ')} before deploying: the deploy refuses without them.`));
    else checks.push(passed('required_env', `set: ${wanted.join(', ')}`));
  }
  return { groups, steps, checks };
}

/** What `deploy --dry-run` returns: the plan, and what the checks say now. */
export interface DeployPlan {
  remote: string;
  url: string;
  database: string;
  environment: string;
  mode: RestoreMode | 'migrate' | null;
  template: {
    name: string;
    state: string;
    /** Files the template is (or would be) built from. */
    files: number;
    changed: string[];
    hash: string | null;
  };
  backup: string;
  replaces: string;
  checks: CheckResult[];
  steps: string[];
  /** Hooks and health check, listed in `steps` where they would run. */
  hooks: HooksPlan;
  /** Every configured deploy group, in run order (they run after the database step, before the post hooks). */
  groups: GroupPlan[];
  /** Migrate mode: the pending migrations, in the order they would run. */
  migrations?: string[] | undefined;
}

/** What decides the steps of a deploy; everything else about the plan is description. */
export interface StepsInput {
  /** replace: the template replaces the database; migrate: pending migrations; create: a migrate deploy to a database that does not exist yet. */
  kind: 'replace' | 'migrate' | 'create';
  database: string;
  exists: boolean;
  /** How the template would be put there (replace, create). */
  mode: RestoreMode | null;
  templateName: string;
  templateFresh: boolean;
  backup: boolean;
  backupDir: string;
  validateQueries: number;
  /** Migrations applied (migrate) or recorded as applied (create). */
  migrations: string[];
  /** create: migrations outside the template, applied after it. */
  thenApply: string[];
  preSteps: string[];
  postSteps: string[];
}

function queries(n: number): string {
  return `${n} validate quer${n === 1 ? 'y' : 'ies'}`;
}

/** The steps a deploy takes, in order, as the dry run lists them. Pure. */
export function planSteps(input: StepsInput): string[] {
  const { database: live } = input;
  const backup = input.backup && input.exists ? `back up "${live}" to ${input.backupDir} and verify it` : 'no backup';
  const validate = input.validateQueries > 0 ? `run ${queries(input.validateQueries)}` : 'no validate queries';
  const record = 'record the deploy in dbfast.deploy_history on the remote and in .dbfast/history/';
  if (input.kind === 'migrate') {
    return [
      'check connectivity, privileges and client tools',
      `lock database "${live}" against other deploys, restores and appliers`,
      ...input.preSteps,
      input.backup ? backup : 'no backup',
      input.migrations.length > 0 ? `apply ${input.migrations.length} migration(s), each in its own transaction: ${input.migrations.join(', ')}` : 'no pending migrations',
      validate,
      ...input.postSteps,
      record,
    ];
  }
  const side = swapNames(live, 'deploy').side;
  const build = input.templateFresh ? `use the fresh template ${input.templateName}` : `build the template ${input.templateName}`;
  const steps = [build, 'dump it (custom format) and check the roles and extensions it needs on the remote', ...input.preSteps, backup];
  if (input.mode === 'in-place') {
    steps.push(`replace the schemas of "${live}" in place, in one transaction, row counts checked before COMMIT`, 'validate');
  } else {
    steps.push(`restore into "${side}", ANALYZE it, check schema, row counts${input.validateQueries > 0 ? ` and ${queries(input.validateQueries)}` : ''}`);
    steps.push(input.exists ? `swap: "${live}" becomes "${live}__dbfast_prev", the new database becomes "${live}"` : `create "${live}": rename "${side}" to it`);
  }
  if (input.kind === 'create') {
    steps.push(input.migrations.length > 0 ? `record ${input.migrations.join(', ')} as applied (the template has them)` : 'no migrations to record');
    if (input.thenApply.length > 0) steps.push(`then apply ${input.thenApply.length} migration(s) the template does not have: ${input.thenApply.join(', ')}`);
  }
  return [...steps, ...input.postSteps, record];
}

/**
 * What a deploy would do, and what its checks say now. Reads only: builds nothing, backs up
 * nothing, creates no database and writes no history.
 */
export async function planDeploy(ctx: RemoteContext, policy: DeployPolicy, afterDeploy: PlanAfterDeploy = NO_AFTER): Promise<DeployPlan> {
  const { config, remote, database: live } = ctx;
  const hookSection = planHooks(config, remote, ctx.env);
  const groupSection = planGroups(afterDeploy, hookSection.checks, hookSection.hooks.requiredEnv);
  // What `remote test` and the deploy check, with the needs of the template as last built when the deploy restores it.
  const needs: TemplateNeeds = policy.mode === 'replace'
    ? await readTemplateNeeds(config, policy.environment)
    : { template: '', unavailable: 'this deploy applies migrations (mode migrate): the roles and extensions of the template are checked only if it creates the database' };
  const checked = await remotePreflight({ ...ctx, template: needs });
  const exists = checked.facts?.databaseExists ?? false;
  // Migrations into an existing database swap nothing: the names a swap needs do not matter then.
  const pre = policy.mode === 'migrate' && exists ? withoutCheck(checked, 'side_names') : checked;
  const healthChecks = afterDeploy.after.healthChecks;
  const hooks = healthChecks ? hookSection.hooks : { ...hookSection.hooks, healthCheck: null };
  const postSteps = [
    ...groupSection.steps,
    ...hookSection.postSteps.filter((step) => healthChecks || !step.startsWith('health check:')),
    ...(!healthChecks && hookSection.hooks.healthCheck ? ['health check: not run (--no-health-check)'] : []),
  ];
  const base = { remote: remote.name, url: maskUrl(ctx.target.url), database: live, environment: policy.environment, checks: [...pre.checks, ...groupSection.checks], hooks, groups: groupSection.groups };
  const stepsBase = { database: live, exists, mode: pre.mode ?? null, backup: policy.backup, backupDir: `${config.backup.dir}/${remote.name}/`, validateQueries: remote.validate.length, preSteps: hookSection.preSteps, postSteps };
  const migrations = policy.mode === 'migrate' ? await migrationFiles(config, policy.environment) : [];
  if (policy.mode === 'migrate' && (exists || pre.mode !== 'swap')) {
    const scope = scopeOf(ctx);
    const pending = exists ? (await withClient(ctx.target, (client) => selectMigrations(client, migrations, scope, {}))).selected.map((m) => m.file.id) : migrations.map((f) => f.id);
    return {
      ...base,
      mode: 'migrate',
      template: { name: '', state: 'not used', files: 0, changed: [], hash: null },
      backup: policy.backup ? (exists ? 'yes' : 'no (the database does not exist)') : 'skipped',
      replaces: `nothing: migrations from ${scope.directories.join(', ')} are applied to "${live}"`,
      steps: planSteps({ ...stepsBase, kind: 'migrate', templateName: '', templateFresh: false, migrations: pending, thenApply: [] }),
      migrations: pending,
    };
  }
  const [templateStatus, templateFiles] = await Promise.all([status({ config, environment: policy.environment }), environmentFiles(config, policy.environment)]);
  const env = templateStatus.environments[0];
  const inTemplate = new Set(templateFiles.map((file) => file.relativePath));
  const recorded = migrations.filter((m) => inTemplate.has(m.id)).map((m) => m.id);
  const thenApply = migrations.filter((m) => !inTemplate.has(m.id)).map((m) => m.id);
  const kind = policy.mode === 'migrate' ? 'create' : 'replace';
  const template = { name: env?.template ?? '', state: env?.state ?? 'unknown', files: env?.fileCount ?? 0, hash: null };
  const filesText = `${template.files} file${template.files === 1 ? '' : 's'}`;
  return {
    ...base,
    mode: kind === 'create' ? 'migrate' : (pre.mode ?? null),
    template: { ...template, changed: env ? [...env.added.map((f) => `+ ${f}`), ...env.modified.map((f) => `~ ${f}`), ...env.removed.map((f) => `- ${f}`)] : [] },
    backup: policy.backup ? (exists ? 'yes' : 'no (the database does not exist yet)') : 'skipped',
    replaces: exists
      ? `database "${live}" (kept as "${live}__dbfast_prev" for rollback)`
      : kind === 'create'
        ? `nothing: database "${live}" does not exist: it is created from the template ${template.name} (${filesText}), ${recorded.length} migration(s) recorded as applied`
        : 'nothing: the database does not exist yet',
    steps: planSteps({ ...stepsBase, kind, templateName: template.name, templateFresh: env?.state === 'fresh', migrations: recorded, thenApply }),
    ...(kind === 'create' ? { migrations: thenApply } : {}),
  };
}

function withoutCheck(pre: RemotePreflight, name: string): RemotePreflight {
  const problems = pre.problems.filter((check) => check.name !== name);
  return { ...pre, checks: pre.checks.filter((check) => check.name !== name), problems, mode: pre.mode ?? (problems.length === 0 && pre.facts ? chooseReplaceMode(pre.facts) : undefined) };
}
