export { buildTemplate, type BuildOptions, type BuildResult } from './build.js';
export { status, type EnvironmentStatus, type StatusOptions, type StatusResult } from './status.js';
export type { TemplateManifest, CloneMetadata } from './manifest.js';
export type { Freshness, TemplateState } from './staleness.js';
export { templateDatabaseName } from './names.js';
