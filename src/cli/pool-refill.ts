import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import type { DbfastConfig } from '../config/types.js';
import { poolNumbers } from '../pool/settings.js';

/**
 * After `dbfast seed`: starts `dbfast pool fill --env ENV` as a detached process (its output in
 * .dbfast/pool-fill.log next to dbfast.toml), so a ready database waits for the next seed. Off
 * when the environment's pool size is 0 (`[pool] size = 0`, DBFAST_POOL_SIZE=0). Returns
 * whether it started one; never fails the seed that already succeeded.
 */
export function startBackgroundRefill(config: DbfastConfig, environment: string, configFlag: string | undefined): boolean {
  let log: number | undefined;
  try {
    if (poolNumbers(config, environment).size === 0) return false;
    const script = process.argv[1];
    if (!script) return false;
    const folder = path.join(config.rootDir, '.dbfast');
    mkdirSync(folder, { recursive: true });
    log = openSync(path.join(folder, 'pool-fill.log'), 'w');
    const args = [script, '--config', configFlag ? path.resolve(configFlag) : config.configPath, 'pool', 'fill', '--env', environment];
    const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', log, log], cwd: config.rootDir });
    child.on('error', () => undefined);
    child.unref();
    return true;
  } catch {
    return false;
  } finally {
    if (log !== undefined) closeSync(log);
  }
}
