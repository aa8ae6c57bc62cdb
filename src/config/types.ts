import type { DbTarget } from '../pg/target.js';
import type { RepositoryConfig } from './repositories.js';
import type { DeployFileConfig, EnvironmentFileConfig, HealthCheckFileConfig, HookFileConfig, PoolFileConfig } from './schema.js';
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
  /**
   * Deploys keep the template's owners only when `no_owner = false` is set explicitly: owners
   * on a developer's server mean nothing on a remote, so by default objects belong to the
   * deploying role. (Backup restores keep owners unless `no_owner = true`.)
   */
  templateOwners: boolean;
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
  /**
   * The environment the file was loaded with: `${VAR}`s came from it, and the local server's
   * connection settings (DATABASE_URL, PG*) are resolved from it (config/targets.ts).
   */
  env: NodeJS.ProcessEnv;
  /** [database] as written (and which server it means); `resolveLocalConnection` turns it (with `env`) into a target. */
  database: {
    url?: string | undefined;
    host?: string | undefined;
    port?: number | undefined;
    user?: string | undefined;
    dbname?: string | undefined;
    passwordEnv?: string | undefined;
    /**
     * `managed`: dbfast's own local server (src/server/), started on first need; `external`: the
     * one these settings (or DATABASE_URL, PG*) name. Decided once, at load, with `env`.
     */
    server: 'managed' | 'external';
    templateName: string;
  };
  repository: {
    /** The first repository's folder (the only one in the simple case). */
    path: string;
    runner: Runner;
    /** psql variables for every environment (`[repository] variables`, values as strings). */
    variables: Record<string, string>;
    /** Files that act on the whole server: run before builds, never part of a template (named as files are: `NAME:path` with several repositories). */
    clusterSetup: string[];
  };
  /**
   * Every SQL repository, in run order (at least one). One unnamed repository is the simple
   * case; named ones (`[[repositories]]`, or a list in `[repository] path`) name their files `NAME:path`.
   */
  repositories: RepositoryConfig[];
  environments: Record<string, EnvironmentConfig>;
  remotes: Record<string, RemoteConfig>;
  backup: BackupPlace & { compression: Compression };
  tools: { pgBinDir?: string | undefined };
  /** `[pool]` as written; src/pool/settings.ts applies defaults and `[environments.NAME.pool]`. */
  pool: PoolFileConfig;
  /** `[deploy]`: hooks of every remote's deploys, and `[[deploy.groups]]`. */
  deploy: DeployFileConfig;
  /** `[webhooks]` as written (shape checked); `dbfast webhook serve` resolves the rest. */
  webhooks?: WebhooksFileConfig | undefined;
}

export type { DbTarget, RepositoryConfig };
