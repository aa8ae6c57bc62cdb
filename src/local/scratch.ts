import { registerCleanup } from '../cleanup.js';
import { localTarget } from '../server/managed.js';
import type { DbfastConfig } from '../config/types.js';
import type { Logger } from '../logger.js';
import { connect } from '../pg/client.js';
import { withDatabase, type DbTarget } from '../pg/target.js';
import { buildTemplate, type BuildResult } from './build.js';
import { projectOwner } from './owner.js';
import { createSideDatabase, dropSideDatabase } from './side.js';

/**
 * Builds the environment's template when stale, clones it into a scratch database (templates
 * refuse connections), runs `use` on the clone, and drops the clone, whatever happens. The
 * scratch database has a side name (`<template>__dbfast_dump_…`) whose lock this process holds
 * while it works: if the process is killed, the next command recognises it and drops it.
 */
export async function withTemplateClone<T>(
  config: DbfastConfig,
  environment: string,
  logger: Logger,
  use: (clone: { build: BuildResult; target: DbTarget }) => Promise<T>,
): Promise<T> {
  const build = await buildTemplate({ config, environment, logger });
  const target = await localTarget(config, config.env, logger);
  const admin = await connect(target, { applicationName: 'dbfast scratch' });
  try {
    const scratch = await createSideDatabase(admin, target, { base: build.template, kind: 'dump', owner: projectOwner(config), source: build.template });
    const unregister = registerCleanup(() => dropSideDatabase(target, undefined, scratch.name, logger));
    try {
      return await use({ build, target: withDatabase(target, scratch.name) });
    } finally {
      await dropSideDatabase(target, admin, scratch.name, logger);
      unregister();
      await scratch.release();
    }
  } finally {
    await admin.end().catch(() => undefined);
  }
}
