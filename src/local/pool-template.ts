import { localTarget } from '../server/managed.js';
import type { DbfastConfig } from '../config/types.js';
import { defaultEnvironmentName } from '../project/filter.js';
import { silentLogger, type Logger } from '../logger.js';
import { poolNumbers, type PoolNumberOverrides } from '../pool/settings.js';
import type { EnsuredTemplate, PooledOwnership, PoolSettings } from '../pool/types.js';
import { commentOwner } from './manifest.js';
import { foldersToWatch } from '../pool/watch.js';
import { buildTemplate } from './build.js';
import { projectTemplates } from './list.js';
import { buildLockKey } from './names.js';
import { isOwnedBy, projectOwner } from './owner.js';
import { chooseStrategy } from './strategy.js';

/**
 * What the pool gets from local/: the environment's template, built first when stale, with what
 * identifies this build (built_at; the pool adds its oid) and how to clone it. The pool itself
 * never builds.
 */
export async function ensurePoolTemplate(config: DbfastConfig, environment: string, logger: Logger, env: NodeJS.ProcessEnv = config.env): Promise<EnsuredTemplate> {
  // The same env as the pool's target: on the managed server, the same server.
  const result = await buildTemplate({ config, environment, logger, env });
  const { manifest } = result;
  const sizeBytes = manifest.sizeBytes ?? null;
  return {
    name: result.template,
    environment: result.environment,
    builtAt: manifest.builtAt,
    sizeBytes,
    strategy: chooseStrategy(manifest.serverVersion, sizeBytes),
    buildLockKey: buildLockKey(result.template),
    watchPaths: watchedFolders(config, Object.keys(manifest.files)),
    owner: projectOwner(config),
    settings: manifest.settings,
  };
}

/**
 * Which pooled databases are this project's, whatever their template is called (two projects on
 * one server may both say `template_name = "shop"`, one after the other): the project its
 * marker names. One with no marker (its maker was killed between CREATE DATABASE and the
 * marker) is the project's whose template it was cloned from, which is the template of its name
 * only when it was made after that template: a half-made clone of a template replaced since
 * cannot be told apart from another project's, so it is left alone. Databases from before
 * owners were recorded (no owner in the marker, nor in the template's manifest) go by template
 * name, as they always did.
 */
export function pooledOwnership(config: DbfastConfig): PooledOwnership {
  const owner = projectOwner(config);
  const templates = projectTemplates(config);
  return (database) => {
    if (database.marker?.owner) return isOwnedBy(database.marker.owner, owner);
    const templateOwner = database.templateOidNow === null ? undefined : commentOwner(database.templateComment);
    if (database.marker === undefined && !database.madeAfterTemplate) return false;
    if (templateOwner) return isOwnedBy(templateOwner, owner);
    return templates.has(database.template);
  };
}

export interface PoolSettingsInput extends PoolNumberOverrides {
  environment?: string | undefined;
  watch?: boolean | undefined;
  /** Rename changed databases to trash for another pool to drop, instead of dropping them here (one-off leases). */
  handOffDrops?: boolean | undefined;
  logger?: Logger | undefined;
  env?: NodeJS.ProcessEnv | undefined;
}

/**
 * The pool's settings for one environment of a config. `reload` gives the config anew before
 * each template check, so edits to dbfast.toml (include/exclude) count as changes too.
 */
export async function poolSettings(config: DbfastConfig, input: PoolSettingsInput, reload: () => Promise<DbfastConfig>): Promise<PoolSettings> {
  const environment = defaultEnvironmentName(config, input.environment);
  const logger = input.logger ?? silentLogger;
  return {
    // The configured server, or dbfast's managed one (started here on first need).
    target: await localTarget(config, input.env ?? config.env, logger),
    environment,
    ...poolNumbers(config, environment, input, input.env),
    ensureTemplate: async () => ensurePoolTemplate(await reload(), environment, logger, input.env ?? config.env),
    owns: pooledOwnership(config),
    watch: input.watch !== false,
    handOffDrops: input.handOffDrops === true,
    logger,
  };
}

/** The folders the pool watches: in every repository, those holding the template's files (named `NAME:path` with several), and the config's. */
function watchedFolders(config: DbfastConfig, files: readonly string[]): string[] {
  const folders = new Set<string>();
  for (const repository of config.repositories) {
    const prefix = repository.name === undefined ? '' : `${repository.name}:`;
    const own = files.filter((file) => file.startsWith(prefix)).map((file) => file.slice(prefix.length));
    for (const folder of foldersToWatch(repository.path, own, [config.rootDir])) folders.add(folder);
  }
  return [...folders];
}
