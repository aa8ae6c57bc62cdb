import { sameSettings, type DatabaseSetting } from '../pg/db-properties.js';
import type { TemplateManifest } from './manifest.js';
import type { EnvironmentPlan } from './plan.js';

export type TemplateState = 'missing' | 'fresh' | 'stale';

export interface Freshness {
  state: TemplateState;
  added: string[];
  removed: string[];
  modified: string[];
  /** The environment's include/exclude settings differ from the ones the template was built with. */
  filterChanged: boolean;
  /**
   * The template's per-database settings differ from those its manifest recorded (changed by
   * hand, say): its clones would not get what it has, so it is rebuilt like after a file change.
   */
  settingsChanged: boolean;
  /**
   * The same files in another order or other layers (repositories reordered, layers regrouped,
   * variables changed): the chain identity of the last layer differs from the one built.
   */
  orderChanged?: boolean | undefined;
  /**
   * `[repository] cluster_setup` changed since the template was built (present only then): files
   * listed (or included by them) since, taken off, edited, or listed but missing on disk.
   */
  clusterSetup?: ClusterSetupChanges | undefined;
}

/** How `[repository] cluster_setup` differs from the one a template was built on. */
export interface ClusterSetupChanges {
  added: string[];
  removed: string[];
  modified: string[];
  /** Listed in dbfast.toml, not on disk: the build refuses it (CLUSTER_SETUP_MISSING). */
  missing: string[];
}

/** The cluster setup against the manifest's record of it; undefined when nothing changed. */
function compareClusterSetup(plan: EnvironmentPlan, built: Record<string, string>): ClusterSetupChanges | undefined {
  const changes: ClusterSetupChanges = { added: [], removed: [], modified: [], missing: [...plan.clusterSetupMissing] };
  const wanted = new Set(plan.clusterSetup.map((file) => file.relativePath));
  for (const file of plan.clusterSetup) {
    const hash = built[file.relativePath];
    if (hash === undefined) changes.added.push(file.relativePath);
    else if (hash !== file.sha256) changes.modified.push(file.relativePath);
  }
  // A missing file is named once, as missing.
  const missing = new Set(changes.missing);
  changes.removed.push(...Object.keys(built).filter((relativePath) => !wanted.has(relativePath) && !missing.has(relativePath)));
  const changed = changes.added.length + changes.removed.length + changes.modified.length + changes.missing.length > 0;
  return changed ? changes : undefined;
}

/**
 * Compares what the template should contain with its manifest; undefined manifest = no template.
 * `settings`: the template's per-database settings as they are now (undefined: not compared).
 */
export function compareWithManifest(plan: EnvironmentPlan, manifest: TemplateManifest | undefined, settings?: readonly DatabaseSetting[]): Freshness {
  if (!manifest) {
    return { state: 'missing', added: plan.files.map((file) => file.relativePath), removed: [], modified: [], filterChanged: false, settingsChanged: false };
  }
  const added: string[] = [];
  const modified: string[] = [];
  const removed: string[] = [];
  // Files reached through includes count like the files themselves.
  for (const [built, planned] of [[manifest.files ?? {}, plan.files], [manifest.included ?? {}, plan.included]] as const) {
    const wanted = new Set<string>();
    for (const file of planned) {
      wanted.add(file.relativePath);
      const hash = built[file.relativePath];
      if (hash === undefined) added.push(file.relativePath);
      else if (hash !== file.sha256) modified.push(file.relativePath);
    }
    removed.push(...Object.keys(built).filter((relativePath) => !wanted.has(relativePath)));
  }
  const filterChanged = manifest.filterHash !== plan.filterHash;
  // The same set of files can run in another order (several repositories reordered): the last
  // layer's chain identity covers order, layers and variables. Manifests without one predate layers.
  const last = plan.layers[plan.layers.length - 1];
  const settingsChanged = settings !== undefined && !sameSettings(settings, manifest.settings ?? []);
  // A manifest without a record of it was built before it was recorded: its setup is unknown, so any there is now counts as added.
  const clusterSetup = compareClusterSetup(plan, manifest.clusterSetup ?? {});
  const filesChanged = added.length > 0 || removed.length > 0 || modified.length > 0 || filterChanged || settingsChanged || clusterSetup !== undefined;
  // Only when nothing else explains it: a changed file changes the identity too.
  const orderChanged = !filesChanged && manifest.identity !== undefined && last !== undefined && manifest.identity !== last.identity;
  const stale = filesChanged || orderChanged;
  return { state: stale ? 'stale' : 'fresh', added, removed, modified, filterChanged, settingsChanged, ...(orderChanged ? { orderChanged } : {}), ...(clusterSetup ? { clusterSetup } : {}) };
}
