import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import type { DbfastConfig } from '../config/types.js';
import { runningManagedTarget } from '../server/managed.js';
import { poolNumbers } from './settings.js';

/** What starts a background fill: the config and environment just seeded, and the CLI to run. */
export interface BackgroundFillOptions {
  config: DbfastConfig;
  environment: string;
  /** The dbfast CLI script to run with node (the CLI passes its own, process.argv[1]). */
  cliScript: string;
  /** The --config the CLI was given, if any (else the config's own path). */
  configPath?: string | undefined;
}

/**
 * After `dbfast seed`: starts `dbfast pool fill --env ENV` as a detached process (its output in
 * .dbfast/pool-fill.log next to dbfast.toml), so a ready database waits for the next seed. Off
 * when the environment's pool size is 0 (`[pool] size = 0`, DBFAST_POOL_SIZE=0). Returns
 * whether it started one; never fails the seed that already succeeded.
 */
export function startPoolRefill(options: BackgroundFillOptions): boolean {
  const { config, environment } = options;
  let log: number | undefined;
  try {
    if (poolNumbers(config, environment).size === 0) return false;
    const env = fillEnvironment(config);
    if (!env) return false;
    const folder = path.join(config.rootDir, '.dbfast');
    mkdirSync(folder, { recursive: true });
    log = openSync(path.join(folder, 'pool-fill.log'), 'w');
    const args = [options.cliScript, '--config', options.configPath ? path.resolve(options.configPath) : config.configPath, 'pool', 'fill', '--env', environment];
    const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', log, log], cwd: config.rootDir, env });
    child.on('error', () => undefined);
    child.unref();
    return true;
  } catch {
    return false;
  } finally {
    if (log !== undefined) closeSync(log);
  }
}

/**
 * The fill's environment. On the managed server it is pointed at the running server itself
 * (DBFAST_DATABASE_URL, the password, if any, in PGPASSWORD: never in argv), so a fill that
 * starts after `dbfast server stop` fails (in its log) instead of starting the server again;
 * undefined (no fill) when the managed server is not running.
 */
function fillEnvironment(config: DbfastConfig): NodeJS.ProcessEnv | undefined {
  // The loaded config carries its environment and says whether its server is the managed one.
  if (config.database.server !== 'managed') return config.env;
  const target = runningManagedTarget(config.env);
  if (!target) return undefined;
  return { ...config.env, DBFAST_DATABASE_URL: target.url, ...(target.password === undefined ? {} : { PGPASSWORD: target.password }) };
}
