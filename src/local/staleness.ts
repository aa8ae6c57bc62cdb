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
}

/** Compares what the template should contain with its manifest; undefined manifest = no template. */
export function compareWithManifest(plan: EnvironmentPlan, manifest: TemplateManifest | undefined): Freshness {
  if (!manifest) {
    return { state: 'missing', added: plan.files.map((file) => file.relativePath), removed: [], modified: [], filterChanged: false };
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
  // Same files in the same set always run in the same (natural) order, so set equality is enough.
  const stale = added.length > 0 || removed.length > 0 || modified.length > 0 || filterChanged;
  return { state: stale ? 'stale' : 'fresh', added, removed, modified, filterChanged };
}
