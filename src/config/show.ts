import { readFileSync } from 'node:fs';
import { displayUrl, maskUrl } from '../pg/target.js';
import { resolveExternalConnection } from './targets.js';
import { parseToml } from './load.js';
import type { DbfastConfig, RemoteConfig } from './types.js';

/**
 * Where a setting's effective value came from: a key of dbfast.toml (with the `${VAR}`s its
 * value interpolates), an environment variable, dbfast's default, or a rule (production remotes
 * always back up and always ask for confirmation).
 */
export type ConfigValueSource =
  | { kind: 'file'; file: string; key: string; variables: string[] }
  | { kind: 'env'; variable: string }
  | { kind: 'default' }
  | { kind: 'rule'; rule: string };

/** One setting as `config show` prints it. */
export interface ConfigEntry {
  /** The dbfast.toml key it is (or would be) written as, e.g. `remotes.staging.url`. */
  key: string;
  /** URLs with any password masked; null: not set. */
  value: string | number | boolean | string[] | null;
  source: ConfigValueSource;
}

/** `dbfast config show`: the effective configuration, setting by setting. */
export interface ConfigShow {
  configPath: string;
  entries: ConfigEntry[];
}

type Raw = Record<string, unknown>;

const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-[^}]*)?\}/g;

/** The value at a key path of the parsed (not interpolated) file, or undefined. */
function rawAt(raw: unknown, path: ReadonlyArray<string | number>): unknown {
  let value = raw;
  for (const part of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string | number, unknown>)[part];
  }
  return value;
}

function variablesIn(value: unknown): string[] {
  const text = typeof value === 'string' ? value : Array.isArray(value) ? value.filter((item) => typeof item === 'string').join(' ') : '';
  return [...text.matchAll(VARIABLE)].map((match) => match[1] as string);
}

/** Collects entries: a file key when written, else the fallbacks in order. */
class Entries {
  readonly list: ConfigEntry[] = [];
  constructor(
    private readonly raw: Raw,
    private readonly file: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  fromFile(path: ReadonlyArray<string | number>): ConfigValueSource | undefined {
    const written = rawAt(this.raw, path);
    if (written === undefined) return undefined;
    const key = path.map((part) => (typeof part === 'number' ? `[${part}]` : part)).join('.').replaceAll('.[', '[');
    return { kind: 'file', file: this.file, key, variables: variablesIn(written) };
  }

  fromEnv(variable: string): ConfigValueSource | undefined {
    return this.env[variable] ? { kind: 'env', variable } : undefined;
  }

  add(key: string, value: ConfigEntry['value'] | undefined, ...sources: Array<ConfigValueSource | undefined>): void {
    const source = sources.find((candidate) => candidate !== undefined) ?? { kind: 'default' };
    this.list.push({ key, value: value ?? null, source });
  }
}

function databaseEntries(config: DbfastConfig, env: NodeJS.ProcessEnv, e: Entries): void {
  const { database } = config;
  const pgVars = ['PGHOST', 'PGPORT', 'PGUSER', 'PGDATABASE'].map((variable) => e.fromEnv(variable));
  const named = e.fromFile(['database', 'url']) ?? e.fromFile(['database', 'host']) ?? e.fromFile(['database', 'port']);
  e.add('database.server', database.server, e.fromFile(['database', 'server']), e.fromEnv('DBFAST_DATABASE_URL'), named, e.fromEnv('DATABASE_URL'), ...pgVars);
  let resolved: ReturnType<typeof resolveExternalConnection> | undefined;
  if (database.server === 'external') {
    // The one resolver decides which source wins (config/targets.ts); shown as libpq would connect.
    try {
      resolved = resolveExternalConnection(config, env);
    } catch {
      // e.g. password_env names an unset variable: show the rest; the commands say what is missing.
      resolved = undefined;
    }
  }
  if (resolved) {
    const bySource: Record<string, Array<ConfigValueSource | undefined>> = {
      DBFAST_DATABASE_URL: [e.fromEnv('DBFAST_DATABASE_URL')],
      'database.url': [e.fromFile(['database', 'url'])],
      '[database]': ['host', 'port', 'user', 'dbname'].map((key) => e.fromFile(['database', key])),
      DATABASE_URL: [e.fromEnv('DATABASE_URL')],
      'PG* environment variables': pgVars,
    };
    e.add('database.url', displayUrl(resolved.target), ...(bySource[resolved.source] ?? []));
  }
  const pgPassword = database.passwordEnv === 'PGPASSWORD' ? e.fromEnv('PGPASSWORD') : undefined;
  e.add('database.password_env', database.passwordEnv, e.fromFile(['database', 'password_env']), pgPassword);
  e.add('database.template_name', database.templateName, e.fromEnv('DBFAST_TEMPLATE_NAME'), e.fromFile(['database', 'template_name']));
}

function projectEntries(config: DbfastConfig, e: Entries): void {
  const [only] = config.repositories;
  if (config.repositories.length === 1 && only?.name === undefined) e.add('repository.path', config.repository.path, e.fromEnv('DBFAST_REPOSITORY_PATH'), e.fromFile(['repository', 'path']));
  // Named repositories, in run order, as remotes are shown: by name, whichever form wrote them.
  else for (const [index, repository] of config.repositories.entries()) e.add(`repositories.${repository.name ?? index}.path`, repository.path, e.fromFile(repository.key.startsWith('repositories') ? ['repositories', index, 'path'] : ['repository', 'path', index]));
  e.add('repository.runner', config.repository.runner, e.fromFile(['repository', 'runner']));
  for (const [name, environment] of Object.entries(config.environments)) {
    const keys = Object.keys(environment).filter((key) => key !== 'name');
    if (keys.length === 0) e.add(`environments.${name}`, 'everything in the repository', e.fromFile(['environments', name]));
    for (const key of keys) e.add(`environments.${name}.${key}`, environment[key as keyof typeof environment] as ConfigEntry['value'], e.fromFile(['environments', name, key]));
  }
}

function backupEntries(config: DbfastConfig, e: Entries): void {
  const { backup } = config;
  e.add('backup.dir', backup.dir, e.fromFile(['backup', 'dir']));
  e.add('backup.compression', backup.compression, e.fromFile(['backup', 'compression']));
  e.add('backup.keep_last', backup.keepLast, e.fromFile(['backup', 'keep_last']), e.fromFile(['backup', 'keep']));
  e.add('backup.keep_days', backup.keepDays, e.fromFile(['backup', 'keep_days']));
  e.add('backup.endpoint', backup.endpoint, e.fromFile(['backup', 'endpoint']), e.fromEnv('AWS_ENDPOINT_URL_S3'), e.fromEnv('AWS_ENDPOINT_URL'));
  e.add('tools.pg_bin_dir', config.tools.pgBinDir ?? 'from PATH', e.fromFile(['tools', 'pg_bin_dir']));
}

function remoteEntries(config: DbfastConfig, e: Entries, raw: Raw): void {
  const written = rawAt(raw, ['remotes']);
  const names = Array.isArray(written) ? (written as Array<{ name?: unknown }>).map((entry) => String(entry.name)) : [];
  for (const remote of Object.values(config.remotes)) {
    const at = Array.isArray(written) ? ['remotes', names.indexOf(remote.name)] : ['remotes', remote.name];
    const key = (name: string): string => `remotes.${remote.name}.${name}`;
    const file = (...path: string[]): ConfigValueSource | undefined => e.fromFile([...at, ...path]);
    const production: ConfigValueSource | undefined = remote.environment === 'production' || remote.name === 'production' ? { kind: 'rule', rule: 'production remotes' } : undefined;
    e.add(key('url'), maskUrl(remote.url), file('url'));
    e.add(key('environment'), remote.environment, file('environment'));
    e.add(key('password_env'), remote.passwordEnv, file('password_env'));
    const flags: Array<[string, keyof RemoteConfig, ConfigValueSource | undefined]> = [
      ['allow_destructive', 'allowDestructive', undefined],
      ['backup_before_deploy', 'backupBeforeDeploy', production],
      ['require_confirmation', 'requireConfirmation', production],
      ['no_owner', 'noOwner', undefined],
      ['no_privileges', 'noPrivileges', undefined],
      ['keep_previous', 'keepPrevious', undefined],
    ];
    for (const [name, field, rule] of flags) e.add(key(name), remote[field] as boolean, rule, file(name));
    const dir = remote.backup.dir ?? config.backup.dir;
    e.add(key('backup.dir'), `${dir.replace(/\/+$/, '')}/${remote.name}`, file('backup', 'dir'), e.fromFile(['backup', 'dir']));
  }
}

/**
 * The effective configuration with the source of each value. Reads the file again (not
 * interpolated) to tell a written key from a default and to name the `${VAR}`s it uses;
 * `config` is the loaded one, so the values are exactly what commands use.
 */
export function showConfig(config: DbfastConfig, env: NodeJS.ProcessEnv = process.env): ConfigShow {
  const raw = parseToml(readFileSync(config.configPath, 'utf8'), config.configPath);
  const entries = new Entries(raw, config.configPath, env);
  databaseEntries(config, env, entries);
  projectEntries(config, entries);
  backupEntries(config, entries);
  remoteEntries(config, entries, raw);
  return { configPath: config.configPath, entries: entries.list };
}
