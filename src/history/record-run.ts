import type { DbfastConfig } from '../config/types.js';
import { recordLocally, recordOnRemote, type DeployRecord } from './records.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { withClient } from '../pg/client.js';
import type { DbTarget } from '../pg/target.js';

/**
 * Finishes a run's history record and writes it: on the remote when `target` is given
 * (`dbfast.deploy_history`, next to the migration rows it wrote), always locally. Never throws:
 * a history that cannot be written is a warning, not a failed run.
 */
export async function recordRun(config: DbfastConfig, record: DeployRecord, target: DbTarget | undefined, logger: Logger): Promise<void> {
  record.finishedAt = new Date().toISOString();
  record.durationMs = Date.parse(record.finishedAt) - Date.parse(record.startedAt);
  if (target) {
    await withClient(target, (client) => recordOnRemote(client, record)).catch((error: unknown) =>
      logger.warn(`could not record the run on the remote (${errorMessage(error)}); it is recorded locally`),
    );
  }
  await recordLocally(config, record).catch((error: unknown) => logger.warn(`could not write the local history: ${errorMessage(error)}`));
}
