import type { DbTarget } from '../pg/target.js';
import type { EnvironmentFileConfig, HealthCheckFileConfig, HookFileConfig } from './schema.js';

export type Compression = 'zstd' | 'lz4' | 'gzip' | 'none';
export type Runner = 'inprocess' | 'psql';

export interface EnvironmentConfig extends EnvironmentFileConfig {
  name: string;
}

export interface RemoteConfig {
  name: string;
  url: string;
  passwordEnv?: string | undefined;
  environment: string;
  allowDestructive: boolean;
  backupBeforeDeploy: boolean;
  /** Always true for production remotes. */
  requireConfirmation: boolean;
  noOwner: boolean;
  noPrivileges: boolean;
  keepPrevious: boolean;
  validate: string[];
  deploy: HookFileConfig;
  healthCheck?: HealthCheckFileConfig | undefined;
}

export interface DbfastConfig {
  /** Absolute path of the dbfast.toml that was read. */
  configPath: string;
  /** Folder of the config file: relative paths resolve against it. */
  rootDir: string;
  database: {
    /** The local server; password resolved lazily (see resolveLocalTarget). */
    url: string;
    passwordEnv?: string | undefined;
    /** Where the connection settings came from, for messages. */
    source: string;
    templateName: string;
  };
  repository: {
    path: string;
    runner: Runner;
    /** psql variables for every environment (`[repository] variables`, values as strings). */
    variables: Record<string, string>;
    /** Files (relative to `path`) that act on the whole server: run before builds, never part of a template. */
    clusterSetup: string[];
  };
  environments: Record<string, EnvironmentConfig>;
  remotes: Record<string, RemoteConfig>;
  backup: { dir: string; keep?: number | undefined; compression: Compression };
  tools: { pgBinDir?: string | undefined };
  deploy: HookFileConfig;
}

export type { DbTarget };
