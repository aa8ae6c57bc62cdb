/** The public library API (`import { ... } from 'dbfast'`); the CLI is built on the same modules. */
export { DbfastError, isDbfastError, type ExitCode } from './errors.js';
export { silentLogger, type Logger, type ProgressEvent } from './logger.js';
export { loadConfig, findConfigFile, localTarget, findRemote, remoteTarget, type LoadConfigOptions } from './config/index.js';
export type { DbfastConfig, EnvironmentConfig, RemoteConfig } from './config/types.js';
export { scanRepository, type ScannedFile } from './scan/index.js';
export { filterFiles, findEnvironment, defaultEnvironmentName, isProductionEnvironment, guardViolations, assertProductionSafe } from './envfilter/index.js';
export { environmentFiles, environmentSummaries, validateEnvironments, type EnvironmentSummary, type ValidationReport } from './project.js';
export { initProject, type InitOptions, type InitResult } from './init/index.js';
