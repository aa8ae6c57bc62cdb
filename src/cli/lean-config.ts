import type { DbfastConfig } from '../config/types.js';
import type { CommandContext } from './action.js';

/**
 * dbfast.toml for the commands run over and over (seed, build, status, rollback): an unchanged
 * file skips the zod validation it already passed (see clone/fast-config.ts); anything else is
 * loaded and reported exactly like ctx.config() does.
 */
export async function leanConfig(ctx: CommandContext): Promise<DbfastConfig> {
  const { loadConfigLean } = await import('../config/load-cached.js');
  return loadConfigLean({ configPath: ctx.globals.config });
}
