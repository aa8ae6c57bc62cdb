import { execa } from 'execa';
import type { DbfastConfig, RemoteConfig } from '../config/types.js';
import { registerCleanup } from '../cleanup.js';
import { DbfastError } from '../errors.js';
import type { Logger } from '../logger.js';
import { scrub } from '../pg/client.js';
import type { DbTarget } from '../pg/target.js';

/** pre: before the backup; post: once the new database is live. */
export type HookStage = 'pre' | 'post';

/** Default time one hook command may run before it is killed. */
export const DEFAULT_HOOK_TIMEOUT_SECONDS = 600;
/** How much hook output a history record keeps (the end of it). */
export const HOOK_OUTPUT_LIMIT_BYTES = 64 * 1024;

/** The hooks of one remote: `[deploy]` first, then `[remotes.N.deploy]`. */
export interface HookSet {
  pre: string[];
  post: string[];
  requiredEnv: string[];
  postFailure: 'rollback' | 'warn';
  timeoutSeconds: number;
}

/**
 * Lists concatenate (global commands run before the remote's, so a remote adds to what every
 * deploy does); single values (`post_failure`, `timeout_seconds`) of the remote win.
 */
export function resolveHooks(config: DbfastConfig, remote: RemoteConfig): HookSet {
  const global = config.deploy;
  const own = remote.deploy;
  return {
    pre: [...(global.pre ?? []), ...(own.pre ?? [])],
    post: [...(global.post ?? []), ...(own.post ?? [])],
    requiredEnv: [...new Set([...(global.required_env ?? []), ...(own.required_env ?? [])])],
    postFailure: own.post_failure ?? global.post_failure ?? 'rollback',
    timeoutSeconds: own.timeout_seconds ?? global.timeout_seconds ?? DEFAULT_HOOK_TIMEOUT_SECONDS,
  };
}

/** Every required variable that is unset or empty, in the order configured. */
export function missingEnv(hooks: HookSet, env: NodeJS.ProcessEnv): string[] {
  return hooks.requiredEnv.filter((name) => !env[name]);
}

/** REQUIRED_ENV_MISSING naming every missing variable (exit 2, before anything connects). */
export function requiredEnvError(remote: string, missing: string[]): DbfastError {
  return new DbfastError(
    'REQUIRED_ENV_MISSING',
    `deploy to remote "${remote}" refused before any change: required environment variable${missing.length === 1 ? '' : 's'} not set: ${missing.join(', ')}`,
    {
      hint: `Export ${missing.join(', ')} (listed in required_env under [deploy], [remotes.${remote}.deploy] or a [[deploy.groups]] entry), then deploy again; --skip-validation deploys without checking them.`,
      details: { missing }, },
  );
}

/**
 * Hook output as the history keeps it: prefixed lines, only the last HOOK_OUTPUT_LIMIT_BYTES
 * (the end of a long log says why it failed).
 */
export class HookOutput {
  private lines: string[] = [];
  private bytes = 0;
  private dropped = false;

  add(line: string): void {
    this.lines.push(line);
    this.bytes += Buffer.byteLength(line) + 1;
    while (this.bytes > HOOK_OUTPUT_LIMIT_BYTES && this.lines.length > 1) {
      this.bytes -= Buffer.byteLength(this.lines.shift() as string) + 1;
      this.dropped = true;
    }
  }

  text(): string | null {
    if (this.lines.length === 0) return null;
    return `${this.dropped ? '[earlier hook output dropped]\n' : ''}${this.lines.join('\n')}\n`;
  }
}

/** What one hook command runs with and where its output goes. */
export interface HookRunContext {
  remote: string;
  environment: string;
  deployId: string;
  /** Empty before the backup exists (pre hooks) or when none was taken. */
  backupId: string | null;
  target: DbTarget;
  /** The config's folder: hooks run there. */
  cwd: string;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  output: HookOutput;
}

/** What the commands see: the caller's environment plus the deploy's facts; the password only in PGPASSWORD. */
export function hookEnv(ctx: Pick<HookRunContext, 'remote' | 'environment' | 'deployId' | 'backupId' | 'target' | 'env'>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...ctx.env,
    DBFAST_REMOTE: ctx.remote,
    DBFAST_ENVIRONMENT: ctx.environment,
    DBFAST_BACKUP_ID: ctx.backupId ?? '',
    DBFAST_DEPLOY_ID: ctx.deployId,
    DATABASE_URL: ctx.target.url,
  };
  if (ctx.target.password !== undefined) env.PGPASSWORD = ctx.target.password;
  return env;
}

/** How one command ended. */
export interface CommandOutcome {
  exitCode: number | undefined;
  signal: string | undefined;
  timedOut: boolean;
}

/**
 * One command through `sh -c` (hooks are shell commands by design), in its own process group
 * so a timeout or Ctrl-C ends everything it started, not only the shell. Its lines are shown
 * and kept prefixed with `[label] `.
 */
async function runCommand(command: string, label: string, ctx: CommandContext, timeoutSeconds: number): Promise<CommandOutcome> {
  const emit = (line: string): void => {
    const shown = `[${label}] ${scrub(line, ctx.target)}`;
    ctx.output.add(shown);
    ctx.logger.info(shown);
  };
  emit(`$ ${command}`);
  // An execa line transform that yields nothing: lines are shown and kept here, not buffered.
  // eslint-disable-next-line require-yield
  const sink = function* (line: unknown): Generator<string> {
    emit(String(line));
  };
  const child = execa('sh', ['-c', command], {
    cwd: ctx.cwd,
    env: { ...hookEnv(ctx), ...ctx.extraEnv },
    extendEnv: false,
    stdin: 'ignore',
    stdout: sink,
    stderr: sink,
    reject: false,
    detached: true,
    cleanup: false,
  });
  const killGroup = (signal: NodeJS.Signals): void => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // Already gone.
    }
  };
  let timedOut = false;
  let forceKill: NodeJS.Timeout | undefined;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup('SIGTERM');
    forceKill = setTimeout(() => killGroup('SIGKILL'), 5000);
  }, timeoutSeconds * 1000);
  const unregister = registerCleanup(() => killGroup('SIGTERM'));
  try {
    const result = await child;
    return { exitCode: result.exitCode, signal: result.signal, timedOut };
  } finally {
    clearTimeout(timer);
    if (forceKill) clearTimeout(forceKill);
    unregister();
  }
}

/** What one hook (or deploy group) command runs with, besides the deploy's facts. */
export interface CommandContext extends HookRunContext {
  /** More variables for the commands (a group's DBFAST_GROUP). */
  extraEnv?: NodeJS.ProcessEnv | undefined;
}

/** The first command of a list that failed, and how. */
export interface CommandFailure {
  index: number;
  command: string;
  /** `exited with 4`, `was killed by SIGKILL`, `timed out after 5 s and was killed`. */
  why: string;
  outcome: CommandOutcome;
}

/**
 * Runs the commands in order, each prefixed `[label]` in the output; stops at the first that
 * fails (non-zero exit, killed, timed out) and returns it, or undefined when all succeeded.
 */
export async function runCommands(label: string, commands: readonly string[], ctx: CommandContext, timeoutSeconds: number, noun = 'command'): Promise<CommandFailure | undefined> {
  for (const [index, command] of commands.entries()) {
    const outcome = await runCommand(command, label, ctx, timeoutSeconds);
    if (outcome.exitCode === 0 && !outcome.timedOut) continue;
    const why = outcome.timedOut
      ? `timed out after ${timeoutSeconds} s and was killed`
      : outcome.signal
        ? `was killed by ${outcome.signal}`
        : `exited with ${outcome.exitCode ?? 'no status'}`;
    ctx.output.add(`[${label}] ${noun} ${why}`);
    return { index, command, why, outcome };
  }
  return undefined;
}

/**
 * Runs the commands in order; the first that fails (non-zero exit, killed, timed out) stops the
 * rest and throws PRE_HOOK_FAILED / POST_HOOK_FAILED naming it.
 */
export async function runHooks(stage: HookStage, commands: readonly string[], ctx: HookRunContext, timeoutSeconds: number): Promise<void> {
  const failure = await runCommands(stage, commands, ctx, timeoutSeconds, 'hook');
  if (!failure) return;
  const { index, command, why, outcome } = failure;
  throw new DbfastError(stage === 'pre' ? 'PRE_HOOK_FAILED' : 'POST_HOOK_FAILED', `${stage} hook ${index + 1} of ${commands.length} ${why}: ${command}`, {
    hint:
      stage === 'pre'
        ? 'Nothing was changed on the remote. The hook output is above and in `dbfast history`; fix the hook (or what it checks), then deploy again.'
        : 'See the hook output above (and in `dbfast history`).',
    details: { stage, command, exitCode: outcome.exitCode ?? null, timedOut: outcome.timedOut },
  });
}
