import { localTarget } from '../server/managed.js';
import type { Logger } from '../logger.js';
import { defaultEnvironmentName } from '../project/filter.js';
import { withClient } from '../pg/client.js';
import type { DbfastConfig } from '../config/types.js';
import type { DatabaseSetting } from '../pg/db-properties.js';
import { readDatabases } from '../pg/catalog.js';
import { noticeLeftovers, type BackgroundMode } from './background.js';
import { isReadyLayer, readLayerHeads } from './chain.js';
import { TEMPLATE_MARKER, decodeManifest, type TemplateManifest } from './manifest.js';
import { describeOwner, isOwnedBy, projectOwner, type ProjectOwner } from './owner.js';
import { guardProblem, planEnvironment, scanAndHash, type EnvironmentPlan } from './plan.js';
import { compareWithManifest, type Freshness } from './staleness.js';

/** Options of `status` (`dbfast status`). */
export interface StatusOptions {
  config: DbfastConfig;
  /** Only this environment; default: every environment in the config. */
  environment?: string | undefined;
  /** Where clean-up of leftovers this command notices runs (see local/background.ts). */
  background?: BackgroundMode | undefined;
  /** Only read: hand no leftover to a clean-up worker (doctor reports leftovers and must not drop them). */
  readOnly?: boolean | undefined;
  /** Hears about the managed server being started, when this is the command that needs it first. */
  logger?: Logger | undefined;
}

/** One layer of an environment, against the files on disk. */
export interface LayerStatus {
  label: string;
  /** The database holding its template (the last layer's is the environment's template). */
  template: string;
  /**
   * `fresh`: its template holds exactly these files; `stale`: files of it (or of a layer below)
   * changed since the environment's template was built; `missing`: not built (yet: layer
   * templates are made in the background after a rebuild, or were dropped).
   */
  state: 'fresh' | 'stale' | 'missing';
  files: number;
  added: string[];
  modified: string[];
  removed: string[];
  /** Other environments whose layers include this same template. */
  sharedWith: string[];
}

/** One environment's template and layers against the files on disk. */
export interface EnvironmentStatus extends Freshness {
  environment: string;
  template: string;
  /** Files the environment gets now. */
  fileCount: number;
  builtAt: string | null;
  /** The template's per-database settings as they are now (what clones get once it is fresh); none without a template. */
  settings: DatabaseSetting[];
  /** The project that built the template (null: not built, or built before owners were recorded). */
  owner: ProjectOwner | null;
  /** Why the template cannot be built as configured: a foreign database of its name, another project's template, or the production guard. */
  problem: string | null;
  layers: LayerStatus[];
}

export interface StatusResult {
  environments: EnvironmentStatus[];
  /** True when every template is fresh and none has a problem (what `status --check` tests). */
  upToDate: boolean;
}

/** Which layer (by index in `plan`) each changed file belongs to; removed files by the layers the template was built with. */
function layerOfChange(plan: EnvironmentPlan, manifest: TemplateManifest | undefined): (relativePath: string, removed: boolean) => number {
  const current = new Map<string, number>();
  plan.layers.forEach((layer, index) => layer.files.forEach((file) => current.set(file.relativePath, index)));
  // An included file belongs to the layer of the file that first includes it (`path:line`).
  for (const file of plan.included) {
    const includer = current.get(file.includedFrom.slice(0, file.includedFrom.lastIndexOf(':')));
    if (includer !== undefined && !current.has(file.relativePath)) current.set(file.relativePath, includer);
  }
  const before = new Map<string, number>();
  if (manifest?.layers) {
    const paths = Object.keys(manifest.files ?? {});
    let at = 0;
    for (const record of manifest.layers) {
      const index = plan.layers.findIndex((layer) => layer.label === record.label);
      for (const relativePath of paths.slice(at, at + record.fileCount)) before.set(relativePath, index < 0 ? plan.layers.length - 1 : index);
      at += record.fileCount;
    }
  }
  return (relativePath, removed) => (removed ? before.get(relativePath) : current.get(relativePath)) ?? plan.layers.length - 1;
}

function layerStatuses(plan: EnvironmentPlan, plans: readonly EnvironmentPlan[], freshness: Freshness, manifest: TemplateManifest | undefined, heads: Map<string, string | null>, owner: ProjectOwner): LayerStatus[] {
  const layerOf = layerOfChange(plan, manifest);
  const statuses = plan.layers.map((layer): LayerStatus => ({
    label: layer.label,
    template: layer.template,
    state: 'fresh',
    files: layer.files.length,
    added: [],
    modified: [],
    removed: [],
    sharedWith: plans.filter((other) => other !== plan && other.layers.some((theirs) => theirs.template === layer.template)).map((other) => other.environment),
  }));
  for (const [list, removed] of [['added', false], ['modified', false], ['removed', true]] as const) {
    for (const relativePath of freshness[list]) statuses[layerOf(relativePath, removed)]?.[list].push(relativePath);
  }
  // A cluster setup change is below every layer.
  let changedBelow = freshness.state === 'missing' || freshness.clusterSetup !== undefined;
  statuses.forEach((status, index) => {
    const layer = plan.layers[index] as EnvironmentPlan['layers'][number];
    changedBelow ||= status.added.length + status.modified.length + status.removed.length > 0;
    if (index === statuses.length - 1) status.state = freshness.state;
    else if (isReadyLayer(heads.get(layer.template), layer.identity, owner)) status.state = 'fresh';
    else status.state = changedBelow && freshness.state !== 'missing' ? 'stale' : 'missing';
  });
  return statuses;
}

/** Each environment's template and layers against the files on disk: one scan, one query. */
export async function status(options: StatusOptions): Promise<StatusResult> {
  const { config } = options;
  const names = options.environment ? [defaultEnvironmentName(config, options.environment)] : Object.keys(config.environments);
  const { files } = await scanAndHash(config);
  const shown = names.map((name) => planEnvironment(config, name, files, false));
  // The others too, for which layers are shared with whom; one of them that cannot be planned shares nothing.
  const plans = Object.keys(config.environments).flatMap((name) => {
    const planned = shown.find((plan) => plan.environment === name);
    if (planned) return [planned];
    try {
      return [planEnvironment(config, name, files, false)];
    } catch {
      return [];
    }
  });
  const owner = projectOwner(config);
  const target = await localTarget(config, config.env, options.logger);
  const layerNames = [...new Set(shown.flatMap((plan) => plan.layers.slice(0, -1).map((layer) => layer.template)))];
  const { snapshot, heads } = await withClient(target, async (client) => {
    const read = await readDatabases(client, shown.map((plan) => plan.template));
    const layerHeads = await readLayerHeads(client, layerNames);
    if (!options.readOnly) await noticeLeftovers(client, { config }, target, { mode: options.background });
    return { snapshot: read, heads: layerHeads };
  });
  const environments = shown.map((plan): EnvironmentStatus => {
    const info = snapshot.databases.get(plan.template);
    const foreign = info !== undefined && !info.comment?.startsWith(TEMPLATE_MARKER);
    const manifest = decodeManifest(info?.comment);
    const elsewhere = manifest?.owner && !isOwnedBy(manifest.owner, owner) ? manifest.owner : undefined;
    const freshness =
      foreign || elsewhere ? { state: 'stale' as const, added: [], removed: [], modified: [], filterChanged: false, settingsChanged: false } : compareWithManifest(plan, manifest, info?.settings);
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
      settings: foreign ? [] : (info?.settings ?? []),
      problem,
      layers: layerStatuses(plan, plans, freshness, manifest, heads, owner),
    };
  });
  return { environments, upToDate: environments.every((entry) => entry.state === 'fresh' && entry.problem === null) };
}
