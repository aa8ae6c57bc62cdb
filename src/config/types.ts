import type { DbTarget } from '../pg/target.js';
import type { DeployFileConfig, EnvironmentFileConfig, HealthCheckFileConfig, HookFileConfig } from './schema.js';
import type { WebhooksFileConfig } from './webhooks-schema.js';

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
  /** `[remotes.NAME.backup]`: overrides of `[backup]` for this remote's backups. */
  backup: Partial<BackupPlace>;
}

/** Where backups are kept and for how long (`[backup]`, per remote overridable). */
export interface BackupPlace {
  /** An absolute folder, or `s3://bucket/prefix`. */
  dir: string;
  endpoint?: string | undefined;
  forcePathStyle?: boolean | undefined;
  /** Keep the newest N restorable backups (`keep_last`, formerly `keep`). */
  keepLast?: number | undefined;
  /** Keep every backup younger than D days. */
  keepDays?: number | undefined;
}

export interface DbfastConfig {
  /** Absolute path of the dbfast.toml that was read. */
  configPath: string;
  /** Folder of the config file: relative paths resolve against it. */
  rootDir: string;
  database: {
    /** The local server (undefined for the managed one, whose address localTarget finds); password resolved lazily. */
    url?: string | undefined;
    passwordEnv?: string | undefined;
    /** Where the connection settings came from, for messages. */
    source: string;
    /** `managed`: dbfast's own local server (src/server/), started on first need; `external`: the one at `url`. */
    server: 'managed' | 'external';
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
  backup: BackupPlace & { compression: Compression };
  tools: { pgBinDir?: string | undefined };
  /** `[deploy]`: hooks of every remote's deploys, and `[[deploy.groups]]`. */
  deploy: DeployFileConfig;
  /** `[webhooks]` as written (shape checked); `dbfast webhook serve` resolves the rest. */
  webhooks?: WebhooksFileConfig | undefined;
}

export type { DbTarget };
