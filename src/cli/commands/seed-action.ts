import type { ActionHandler } from '../action.js';
import { libraryWithPg } from '../pg-probe.js';

/** `seed`'s options, as commander and the fast path (cli/fast-seed.ts) both give them. */
export interface SeedFlags {
  output: string;
  env?: string | undefined;
  force?: boolean | undefined;
  rebuild?: boolean | undefined;
  /** Then keep it in step with the files (`dbfast watch --output`); never set by the fast path. */
  watch?: boolean | undefined;
}

/**
 * `dbfast seed`'s handler, shared by the commander program and the fast path (cli/entry.ts).
 * The CLI's start-up is most of a seed's wall time, so this module imports nothing at load time;
 * the library (whose index loads its implementations lazily) and pg come in side by side with
 * the config.
 */
export const seedAction: ActionHandler<SeedFlags> = async (ctx, _args, options) => {
  const [config, api] = await Promise.all([ctx.config(), libraryWithPg()]);
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
  if (options.watch === true) {
    const { runWatch } = await import('./watch.js');
    return runWatch(ctx, { env: options.env, output: [options.output] });
  }
};
