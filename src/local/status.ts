import { localTarget } from '../server/managed.js';
import type { Logger } from '../logger.js';
import { defaultEnvironmentName } from '../project/filter.js';
import { withClient } from '../pg/client.js';
import type { DbfastConfig } from '../config/types.js';
import { readDatabases } from '../pg/catalog.js';
import { TEMPLATE_MARKER, decodeManifest } from './manifest.js';
import { guardProblem, planEnvironment, scanAndHash } from './plan.js';
import { compareWithManifest, type Freshness } from './staleness.js';

export interface StatusOptions {
  config: DbfastConfig;
  /** Only this environment; default: every environment in the config. */
  environment?: string | undefined;
  /** Hears about the managed server being started, when this is the command that needs it first. */
  logger?: Logger | undefined;
}

export interface EnvironmentStatus extends Freshness {
  environment: string;
  template: string;
  /** Files the environment gets now. */
  fileCount: number;
  builtAt: string | null;
  /** Why the template cannot be built as configured: a foreign database of its name, or the production guard. */
  problem: string | null;
}

export interface StatusResult {
  environments: EnvironmentStatus[];
  /** True when every template is fresh and none has a problem (what `status --check` tests). */
  upToDate: boolean;
}

/** Each environment's template against the files on disk: one scan, one query. */
export async function status(options: StatusOptions): Promise<StatusResult> {
  const { config } = options;
  const names = options.environment ? [defaultEnvironmentName(config, options.environment)] : Object.keys(config.environments);
  const { files } = await scanAndHash(config);
  const plans = names.map((name) => planEnvironment(config, name, files, false));
  const snapshot = await withClient(await localTarget(config, process.env, options.logger), (client) => readDatabases(client, plans.map((plan) => plan.template)));
  const environments = plans.map((plan): EnvironmentStatus => {
    const info = snapshot.databases.get(plan.template);
    const foreign = info !== undefined && !info.comment?.startsWith(TEMPLATE_MARKER);
    const guard = guardProblem(config, plan);
    const manifest = decodeManifest(info?.comment);
    const freshness = foreign
      ? { state: 'stale' as const, added: [], removed: [], modified: [], filterChanged: false }
      : compareWithManifest(plan, manifest);
    return {
      environment: plan.environment,
      template: plan.template,
      ...freshness,
      fileCount: plan.files.length,
      builtAt: manifest?.builtAt ?? null,
      problem: foreign ? `database "${plan.template}" exists but was not made by dbfast; build will refuse to replace it` : guard,
    };
  });
  return { environments, upToDate: environments.every((entry) => entry.state === 'fresh' && entry.problem === null) };
}
