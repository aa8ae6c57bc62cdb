/**
 * Runs one deploy group on the live database: its pre commands, its SQL files (in-process, in
 * one transaction, errors at `file:line:column`), its commands, its post commands, then its
 * health check. The first failure ends the group with GROUP_FAILED naming the stage; what the
 * deploy then does (roll back, or go on with `--continue-on-failure`) is decided by the caller.
 */
import { DbfastError, errorMessage, isDbfastError } from '../errors.js';
import type { PhaseClock } from '../history/phases.js';
import { runFiles } from '../sql/index.js';
import type { PreparedGroup } from './groups.js';
import { checkHealth, type HealthResult } from './health.js';
import { runCommands, type CommandContext } from './hooks.js';

/** What became of a group in a deploy. */
export type GroupStatus = 'succeeded' | 'failed' | 'skipped' | 'not_run';

/** One group's part of a deploy report (`--json`: `groups`). */
export interface GroupOutcome {
  name: string;
  order: number;
  status: GroupStatus;
  /** Why it was skipped or not run, or what failed; null when it succeeded. */
  reason: string | null;
  /** Its SQL files, relative to dbfast.toml's folder. */
  files: string[];
  commands: string[];
  durationMs: number | null;
  /** Its health check's answer, when it has one and it ran. */
  health: HealthResult | null;
}

/** Where a group failed. */
export type GroupStage = 'pre' | 'files' | 'commands' | 'post' | 'health';

/** What running a group needs: the hooks' command context (remote, deploy, target, output) and settings. */
export interface GroupRunInput {
  commands: CommandContext;
  clock: PhaseClock;
  /** Per command, as for hooks (`timeout_seconds`). */
  timeoutSeconds: number;
  /** False with `--no-health-check`. */
  healthChecks: boolean;
}

/** A fresh outcome for a group that has not run (yet). */
export function pendingOutcome(group: PreparedGroup, status: GroupStatus, reason: string | null): GroupOutcome {
  return {
    name: group.name,
    order: group.order,
    status,
    reason,
    files: group.sqlFiles.map((file) => file.relativePath),
    commands: group.commands,
    durationMs: null,
    health: null,
  };
}

function groupError(group: PreparedGroup, stage: GroupStage, message: string, extra: { cause?: unknown; details?: Record<string, unknown> } = {}): DbfastError {
  return new DbfastError('GROUP_FAILED', `deploy group "${group.name}" failed (${stage}): ${message}`, {
    hint: `The output is above and in \`dbfast history\`; fix the group, then deploy again (--skip-group ${group.name} deploys without it; --continue-on-failure keeps the deploy when a group fails).`,
    cause: extra.cause,
    details: { group: group.name, stage, ...extra.details },
  });
}

async function commandsOrThrow(group: PreparedGroup, stage: 'pre' | 'commands' | 'post', commands: readonly string[], input: GroupRunInput): Promise<void> {
  if (commands.length === 0) return;
  const label = stage === 'commands' ? `group ${group.name}` : `group ${group.name} ${stage}`;
  const failure = await runCommands(label, commands, { ...input.commands, extraEnv: { DBFAST_GROUP: group.name } }, input.timeoutSeconds);
  if (!failure) return;
  throw groupError(group, stage, `command ${failure.index + 1} of ${commands.length} ${failure.why}: ${failure.command}`, {
    details: { command: failure.command, exitCode: failure.outcome.exitCode ?? null, timedOut: failure.outcome.timedOut },
  });
}

/**
 * Runs the group (phase `group:NAME`); returns its outcome, or throws GROUP_FAILED (its
 * `details.outcome` says how far it got). SQL files run on their own connection to the live
 * database in one transaction: a failing file leaves none of the group's SQL applied.
 */
export async function runGroup(group: PreparedGroup, input: GroupRunInput): Promise<GroupOutcome> {
  const outcome = pendingOutcome(group, 'succeeded', null);
  const started = Date.now();
  const { logger } = input.commands;
  let stage: GroupStage = 'pre';
  try {
    await input.clock.run(`group:${group.name}`, async () => {
      await commandsOrThrow(group, 'pre', group.pre, input);
      stage = 'files';
      if (group.sqlFiles.length > 0) {
        try {
          const ran = await runFiles(group.sqlFiles, { target: input.commands.target, transaction: 'single', logger });
          const line = `[group ${group.name}] ran ${ran.files} SQL file${ran.files === 1 ? '' : 's'} (${ran.statements} statement${ran.statements === 1 ? '' : 's'}) in one transaction`;
          input.commands.output.add(line);
          logger.info(line);
        } catch (error) {
          const sql = isDbfastError(error) ? error.details : undefined;
          throw groupError(group, 'files', errorMessage(error), { cause: error, details: sql ? { sql } : {} });
        }
      }
      stage = 'commands';
      await commandsOrThrow(group, 'commands', group.commands, input);
      stage = 'post';
      await commandsOrThrow(group, 'post', group.post, input);
      stage = 'health';
      if (group.healthCheck && input.healthChecks) {
        const health = await checkHealth(group.healthCheck);
        outcome.health = health;
        if (!health.ok) throw groupError(group, 'health', `health check ${health.url} failed after ${health.attempts} attempt${health.attempts === 1 ? '' : 's'}: ${health.error ?? 'unknown'}`, { details: { health } });
        logger.info(`[group ${group.name}] health check ${health.url} answered ${health.status}`);
      }
    });
  } catch (error) {
    outcome.status = 'failed';
    // The group's name is the outcome's own: the reason starts at the stage (`files: deploy/x.sql:3:13: ...`).
    outcome.reason = errorMessage(error).replace(`deploy group "${group.name}" failed (${stage}): `, `${stage}: `);
    outcome.durationMs = Date.now() - started;
    if (isDbfastError(error) && error.code === 'GROUP_FAILED') throw new DbfastError('GROUP_FAILED', error.message, { hint: error.hint, cause: error.cause, details: { ...error.details, outcome } });
    throw groupError(group, stage, errorMessage(error), { cause: error, details: { outcome } });
  }
  outcome.durationMs = Date.now() - started;
  return outcome;
}

/**
 * A failed group's error as the deploy throws it: whatever undid the deploy (a swap back, a
 * restored backup) gives its own hint; this adds how to deploy without the group. Other errors
 * pass through unchanged.
 */
export function withGroupHint(error: unknown): never {
  if (!isDbfastError(error) || error.code !== 'GROUP_FAILED' || error.hint?.includes('--skip-group')) throw error;
  const group = typeof error.details?.group === 'string' ? error.details.group : 'NAME';
  const more = `--skip-group ${group} deploys without this group; --continue-on-failure keeps the deploy when a group fails.`;
  throw new DbfastError('GROUP_FAILED', error.message, { hint: error.hint ? `${error.hint} ${more}` : more, cause: error.cause, details: error.details });
}
