import type { ActionHandler } from '../action.js';
import { leanConfig } from '../lean-config.js';
import { importSkippingPgProbe } from '../pg-probe.js';

/** `seed`'s options, as commander and the fast path (cli/fast-seed.ts) both give them. */
export interface SeedFlags {
  output: string;
  env?: string | undefined;
  force?: boolean | undefined;
  rebuild?: boolean | undefined;
}

/**
 * `dbfast seed`'s handler, shared by the commander program and the fast path (cli/entry.ts).
 * The CLI's start-up is most of a seed's wall time, so this module imports nothing heavy at
 * load time and loads only what seeding needs: no zod for an unchanged dbfast.toml
 * (fast-config), the seed implementation itself rather than the whole library index.
 */
export const seedAction: ActionHandler<SeedFlags> = async (ctx, _args, options) => {
  // local/seed.js is what the library's seed() calls once it has a config; index.js would also load zod.
  const [config, api] = await Promise.all([leanConfig(ctx), importSkippingPgProbe(() => import('../../local/seed.js'))]);
  const result = await api.seed({
    config,
    output: options.output,
    environment: options.env,
    force: options.force === true,
    rebuild: options.rebuild === true,
    logger: ctx.out.logger(),
  });
  if (!ctx.out.json) {
    const { seedMessage } = await import('../render/local.js');
    ctx.out.message(seedMessage(result));
  }
  ctx.out.result(result, () => result.url);
};
