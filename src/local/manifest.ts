import { sha256 } from '../project/hash.js';
import type { EnvironmentConfig } from '../config/types.js';
import type { DatabaseSetting } from '../pg/db-properties.js';
import type { ProjectOwner } from './owner.js';

/**
 * What dbfast stores on the databases it makes, as `COMMENT ON DATABASE`: a recognisable prefix
 * followed by JSON. The prefix is how list/drop tell dbfast's databases from everyone else's.
 */
export const TEMPLATE_MARKER = 'dbfast:template:v1 ';
export const CLONE_MARKER = 'dbfast:clone:v1 ';
export const BUILD_MARKER = 'dbfast:build:v1 ';
/** Comment prefix of a finished spare (spare.ts). */
export const SPARE_MARKER = 'dbfast:spare:v1 ';

/** One layer of the chain a template was built from. */
export interface LayerRecord {
  label: string;
  identity: string;
  /** The database holding that layer's template. */
  template: string;
  fileCount: number;
}

export interface TemplateManifest {
  dbfastVersion: string;
  environment: string;
  template: string;
  /** Relative path -> sha256 of the file's bytes, in the order the files ran. */
  files: Record<string, string>;
  /** Files reached only through `\i` / `\ir`: relative path -> sha256 (absent when there are none). */
  included?: Record<string, string>;
  /**
   * `[repository] cluster_setup` when it was built: each file (and what it includes) -> sha256.
   * Absent when the project had none (and in manifests from before it was recorded).
   */
  clusterSetup?: Record<string, string> | undefined;
  fileCount: number;
  filterHash: string;
  serverVersion: number;
  builtAt: string;
  /** pg_database_size at build time: a template never changes, so seed need not measure it. */
  sizeBytes: number;
  /** The project that built it; absent on templates built before owners were recorded. */
  owner?: ProjectOwner | undefined;
  /** `final`: an environment's template (what seed clones); `layer`: a layer template below one. Absent: final. */
  role?: 'final' | 'layer' | undefined;
  /** Identity of the chain of layers this template holds (see layers.ts). */
  identity?: string | undefined;
  /** The layers this template was built from, in order, ending with its own. */
  layers?: LayerRecord[] | undefined;
  /** Extensions in the template: name -> version. */
  extensions?: Record<string, string> | undefined;
  /**
   * Its per-database settings as built (`ALTER DATABASE ... SET`, `ALTER ROLE ... IN DATABASE ...
   * SET` in its files, its layers' included), which clones and deploys are given since PostgreSQL
   * copies none of them. Absent in manifests from before settings travelled: read as none.
   */
  settings?: DatabaseSetting[] | undefined;
}

/** A ready, empty-handed copy of a template (or of template0) that the next build renames instead of copying. */
export interface SpareMarker {
  /** The database it is a copy of. */
  source: string;
  /** That template's identity when copied (`template0` for an empty one). */
  sourceIdentity: string;
  createdAt: string;
  owner?: ProjectOwner | undefined;
}

export interface CloneMetadata {
  template: string;
  environment: string;
  createdAt: string;
  dbfastVersion: string;
  /** The project that seeded it; absent on clones made before owners were recorded. */
  owner?: ProjectOwner | undefined;
}

export interface BuildMarker {
  template: string;
  startedAt: string;
  owner?: ProjectOwner | undefined;
}

export function encodeComment(marker: string, data: object): string {
  return `${marker}${JSON.stringify(data)}`;
}

function decode<T>(marker: string, comment: string | null | undefined): T | undefined {
  if (!comment?.startsWith(marker)) return undefined;
  try {
    return JSON.parse(comment.slice(marker.length)) as T;
  } catch {
    return undefined;
  }
}

export function decodeManifest(comment: string | null | undefined): TemplateManifest | undefined {
  return decode<TemplateManifest>(TEMPLATE_MARKER, comment);
}

export function decodeClone(comment: string | null | undefined): CloneMetadata | undefined {
  return decode<CloneMetadata>(CLONE_MARKER, comment);
}

export function decodeBuild(comment: string | null | undefined): BuildMarker | undefined {
  return decode<BuildMarker>(BUILD_MARKER, comment);
}

/** The spare marker in a database comment, if that is what it is. */
export function decodeSpare(comment: string | null | undefined): SpareMarker | undefined {
  return decode<SpareMarker>(SPARE_MARKER, comment);
}

/** The project recorded in any comment dbfast wrote (undefined: none recorded, or not dbfast's). */
export function commentOwner(comment: string | null | undefined): ProjectOwner | undefined {
  return (decodeManifest(comment) ?? decodeClone(comment) ?? decodeBuild(comment) ?? decodeSpare(comment))?.owner;
}

/** True for any comment dbfast wrote: the only databases list/drop will touch. */
export function isDbfastComment(comment: string | null | undefined): boolean {
  return [TEMPLATE_MARKER, CLONE_MARKER, BUILD_MARKER, SPARE_MARKER].some((marker) => comment?.startsWith(marker) === true);
}

/**
 * Hash of the keys that decide which files an environment gets. Key order in the file and
 * unrelated keys (description, migration_directories) do not change it.
 */
export function filterConfigHash(environment: EnvironmentConfig): string {
  const filter = {
    include_directories: environment.include_directories ?? null,
    exclude_directories: environment.exclude_directories ?? null,
    include_files: environment.include_files ?? null,
    exclude_files: environment.exclude_files ?? null,
  };
  return sha256(JSON.stringify(filter));
}
