import type { DbfastConfig, RemoteConfig } from '../config/types.js';
import { failed, passed, type CheckResult } from '../validate/types.js';
import { maskHttpUrl, resolveHealthCheck, type HealthCheck } from './health.js';
import { missingEnv, resolveHooks } from './hooks.js';

/** What a dry run says about hooks: printed, never run. */
export interface HooksPlan {
  pre: string[];
  post: string[];
  requiredEnv: string[];
  /** Required variables not set now: a real deploy would refuse (exit 2). */
  missingEnv: string[];
  postFailure: 'rollback' | 'warn';
  timeoutSeconds: number;
  healthCheck: HealthCheck | null;
}

/** The hooks' part of a dry run: what it lists, and the checks it adds. */
export interface HookPlanSection {
  hooks: HooksPlan;
  /** `required_env`, when any is configured. */
  checks: CheckResult[];
  /** Steps to list before the backup, and after the swap. */
  preSteps: string[];
  postSteps: string[];
}

/** What the hooks of a deploy to `remote` would do, for the dry run; runs nothing. */
export function planHooks(config: DbfastConfig, remote: RemoteConfig, env: NodeJS.ProcessEnv): HookPlanSection {
  const set = resolveHooks(config, remote);
  const health = resolveHealthCheck(remote.healthCheck);
  const missing = missingEnv(set, env);
  const checks: CheckResult[] = [];
  if (set.requiredEnv.length > 0) {
    checks.push(
      missing.length > 0
        ? failed('required_env', `not set: ${missing.join(', ')}`, `Export ${missing.join(', ')} before deploying: the deploy refuses without them.`)
        : passed('required_env', `set: ${set.requiredEnv.join(', ')}`),
    );
  }
  const onFailure = set.postFailure === 'warn' ? 'a failure only warns' : 'a failure rolls the deploy back';
  return {
    hooks: {
      pre: set.pre,
      post: set.post,
      requiredEnv: set.requiredEnv,
      missingEnv: missing,
      postFailure: set.postFailure,
      timeoutSeconds: set.timeoutSeconds,
      healthCheck: health ? { ...health, url: maskHttpUrl(health.url) } : null,
    },
    checks,
    preSteps: set.pre.map((command) => `pre hook (a failure stops the deploy, nothing changed): ${command}`),
    postSteps: [
      ...set.post.map((command) => `post hook (${onFailure}): ${command}`),
      ...(health ? [`health check: GET ${maskHttpUrl(health.url)} until it answers ${health.expectedStatus} (at most ${health.timeoutSeconds} s; a failure rolls the deploy back)`] : []),
    ],
  };
}
