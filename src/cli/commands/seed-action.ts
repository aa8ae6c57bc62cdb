import type { ActionHandler } from '../action.js';
import { leanConfig } from '../lean-config.js';
import { importSkippingPgProbe } from '../pg-probe.js';

/**
 * `dbfast seed`'s handler, shared by the commander program and the fast path (cli/entry.ts).
 * The CLI's start-up is most of a seed's wall time, so this module imports nothing heavy at
 * load time and loads only what seeding needs: no zod for an unchanged dbfast.toml
 * (fast-config), the seed implementation itself rather than the whole library index.
 */

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

export const seedAction: ActionHandler = async (ctx, _args, options) => {
  // clone/seed.js is what the library's seed() calls once it has a config; index.js would also load zod.
  const [config, api] = await Promise.all([leanConfig(ctx), importSkippingPgProbe(() => import('../../local/seed.js'))]);
  const result = await api.seed({
    config,
    output: String(options.output),
    environment: str(options.env),
    force: options.force === true,
    rebuild: options.rebuild === true,
    logger: ctx.out.logger(),
  });
  // The next seed is instant too: a detached `dbfast pool fill` makes the next ready database.
  const { startBackgroundRefill } = await import('../pool-refill.js');
  const refill = startBackgroundRefill(config, result.environment, ctx.globals.config);
  if (!ctx.out.json) {
    const { seedMessage } = await import('./template-render.js');
    ctx.out.message(seedMessage(result));
  }
  ctx.out.result({ ...result, refill }, () => result.url);
};
