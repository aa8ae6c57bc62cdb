import type { DbfastConfig, RemoteConfig } from '../config/types.js';
import type { DbTarget } from '../pg/target.js';
import { maskUrl } from '../pg/target.js';
import { status } from '../local/status.js';
import type { CheckResult } from '../validate/types.js';
import { planHooks, type HooksPlan } from './hook-plan.js';
import type { DeployPolicy } from '../remote/policy.js';
import { remotePreflight, type RestoreMode } from '../remote/preflight.js';
import { readTemplateNeeds } from '../validate/template.js';

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
  /** Migrate mode: the pending migrations, in the order they would run. */
  migrations?: string[] | undefined;
}

/**
 * What a deploy would do, and what its checks say now. Reads only: builds nothing, backs up
 * nothing, creates no database and writes no history.
 */
export async function planDeploy(input: {
  config: DbfastConfig;
  remote: RemoteConfig;
  policy: DeployPolicy;
  target: DbTarget;
  live: string;
  env?: NodeJS.ProcessEnv | undefined;
}): Promise<DeployPlan> {
  const { config, remote, policy, target, live } = input;
  const hookSection = planHooks(config, remote, input.env ?? process.env);
  const [templateStatus, pre] = await Promise.all([
    status({ config, environment: policy.environment }),
    readTemplateNeeds(config, policy.environment).then((template) => remotePreflight({ remote, target, pgBinDir: config.tools.pgBinDir, template })),
  ]);
  const env = templateStatus.environments[0];
  const changed = env ? [...env.added.map((f) => `+ ${f}`), ...env.modified.map((f) => `~ ${f}`), ...env.removed.map((f) => `- ${f}`)] : [];
  const exists = pre.facts?.databaseExists ?? false;
  const mode = pre.mode ?? null;
  const steps = [
    env?.state === 'fresh' ? `use the fresh template ${env.template}` : `build the template ${env?.template ?? ''} (${env?.state ?? 'unknown'})`,
    'dump it (custom format) and check the roles and extensions it needs on the remote',
    ...hookSection.preSteps,
    policy.backup && exists ? `back up "${live}" to ${config.backup.dir}/${remote.name}/ and verify it` : 'no backup',
    mode === 'in-place'
      ? `replace the schemas of "${live}" in place, in one transaction, row counts checked before COMMIT`
      : `restore into "${live}__dbfast_new", check schema, row counts${remote.validate.length ? ` and ${remote.validate.length} validate quer${remote.validate.length === 1 ? 'y' : 'ies'}` : ''}`,
    mode === 'in-place' ? 'validate' : exists ? `swap: "${live}" becomes "${live}__dbfast_prev", the new database becomes "${live}"` : `rename it to "${live}"`,
    ...hookSection.postSteps,
    'record the deploy in dbfast.deploy_history on the remote and in .dbfast/history/',
  ];
  return {
    remote: remote.name,
    url: maskUrl(target.url),
    database: live,
    environment: policy.environment,
    mode,
    template: {
      name: env?.template ?? '',
      state: env?.state ?? 'unknown',
      files: env?.fileCount ?? 0,
      changed,
      hash: null,
    },
    backup: policy.backup ? (exists ? 'yes' : 'no (the database does not exist yet)') : 'skipped',
    replaces: exists ? `database "${live}" (kept as "${live}__dbfast_prev" for rollback)` : 'nothing: the database does not exist yet',
    checks: [...pre.checks, ...hookSection.checks],
    steps,
    hooks: hookSection.hooks,
  };
}
