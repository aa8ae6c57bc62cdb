import { sha256 } from '../project/hash.js';
import type { EnvironmentConfig } from '../config/types.js';

/**
 * What dbfast stores on the databases it makes, as `COMMENT ON DATABASE`: a recognisable prefix
 * followed by JSON. The prefix is how list/drop tell dbfast's databases from everyone else's.
 */
export const TEMPLATE_MARKER = 'dbfast:template:v1 ';
export const CLONE_MARKER = 'dbfast:clone:v1 ';
export const BUILD_MARKER = 'dbfast:build:v1 ';

export interface TemplateManifest {
  dbfastVersion: string;
  environment: string;
  template: string;
  /** Relative path -> sha256 of the file's bytes, in the order the files ran. */
  files: Record<string, string>;
  /** Files reached only through `\i` / `\ir`: relative path -> sha256 (absent when there are none). */
  included?: Record<string, string>;
  fileCount: number;
  filterHash: string;
  serverVersion: number;
  builtAt: string;
  /** pg_database_size at build time: a template never changes, so seed need not measure it. */
  sizeBytes: number;
}

export interface CloneMetadata {
  template: string;
  environment: string;
  createdAt: string;
  dbfastVersion: string;
}

export interface BuildMarker {
  template: string;
  startedAt: string;
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

/** True for any comment dbfast wrote: the only databases list/drop will touch. */
export function isDbfastComment(comment: string | null | undefined): boolean {
  return [TEMPLATE_MARKER, CLONE_MARKER, BUILD_MARKER].some((marker) => comment?.startsWith(marker) === true);
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
