import { localTarget } from '../config/targets.js';
import { defaultEnvironmentName } from '../project/filter.js';
import { withClient } from '../pg/client.js';
import type { DbfastConfig } from '../config/types.js';
import { readDatabases } from '../pg/catalog.js';
import { noticeLeftovers, type BackgroundMode } from './background.js';
import { TEMPLATE_MARKER, decodeManifest } from './manifest.js';
import { describeOwner, isOwnedBy, projectOwner, type ProjectOwner } from './owner.js';
import { guardProblem, planEnvironment, scanAndHash } from './plan.js';
import { compareWithManifest, type Freshness } from './staleness.js';

export interface StatusOptions {
  config: DbfastConfig;
  /** Where clean-up of leftovers this command notices runs (see local/background.ts). */
  background?: BackgroundMode | undefined;
  /** Only this environment; default: every environment in the config. */
  environment?: string | undefined;
}

export interface EnvironmentStatus extends Freshness {
  environment: string;
  template: string;
  /** Files the environment gets now. */
  fileCount: number;
  builtAt: string | null;
  /** The project that built the template (null: not built, or built before owners were recorded). */
  owner: ProjectOwner | null;
  /** Why the template cannot be built as configured: a foreign database of its name, another project's template, or the production guard. */
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
  const owner = projectOwner(config);
  const target = localTarget(config);
  const snapshot = await withClient(target, async (client) => {
    const read = await readDatabases(client, plans.map((plan) => plan.template));
    await noticeLeftovers(client, { config }, target, { mode: options.background });
    return read;
  });
  const environments = plans.map((plan): EnvironmentStatus => {
    const info = snapshot.databases.get(plan.template);
    const foreign = info !== undefined && !info.comment?.startsWith(TEMPLATE_MARKER);
    const manifest = decodeManifest(info?.comment);
    const elsewhere = manifest?.owner && !isOwnedBy(manifest.owner, owner) ? manifest.owner : undefined;
    const freshness =
      foreign || elsewhere ? { state: 'stale' as const, added: [], removed: [], modified: [], filterChanged: false } : compareWithManifest(plan, manifest);
    let problem = guardProblem(config, plan);
    if (foreign) problem = `database "${plan.template}" exists but was not made by dbfast; build will refuse to replace it`;
    if (elsewhere) problem = `template "${plan.template}" belongs to ${describeOwner(elsewhere)}; build will refuse to replace it (set another database.template_name)`;
    return {
      environment: plan.environment,
      template: plan.template,
      ...freshness,
      fileCount: plan.files.length,
      builtAt: manifest?.builtAt ?? null,
      owner: manifest?.owner ?? null,
      problem,
    };
  });
  return { environments, upToDate: environments.every((entry) => entry.state === 'fresh' && entry.problem === null) };
}
