import { DbfastError } from '../errors.js';
import type { DbfastConfig } from '../config/types.js';

/**
 * Ready databases kept per environment when nothing says otherwise. One is what `dbfast seed`
 * needs (each seed takes it, the background refill makes the next); a test suite passes
 * `size` (about its worker count). It costs one template's size on disk per environment seeded
 * (see README, "Instant databases").
 */
export const DEFAULT_POOL_SIZE = 1;
/** Pooled databases one server may hold at once (every pool and project on it counts). */
export const DEFAULT_MAX_CLONES = 16;
export const DEFAULT_LEASE_TIMEOUT_MS = 60_000;

export interface PoolNumbers {
  size: number;
  maxClones: number;
  leaseTimeoutMs: number;
}

export interface PoolNumberOverrides {
  size?: number | undefined;
  maxClones?: number | undefined;
  leaseTimeoutMs?: number | undefined;
}

/** The most ready databases one pool keeps (the README's 0–64; `[pool] size` has the same bound). */
export const MAX_POOL_SIZE = 64;

/**
 * THE reader of a pool size given as text (`--size`, DBFAST_POOL_SIZE): digits only, 0 to
 * MAX_POOL_SIZE. `1.5`, `1e1`, `0x10`, ` 3` and `65` are refused alike, whichever input gave
 * them; `from` names that input for the message.
 */
export function parsePoolSize(raw: string, from: string): number {
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value > MAX_POOL_SIZE) {
    throw new DbfastError('CONFIG_INVALID', `${from} must be a whole number from 0 to ${MAX_POOL_SIZE}, not "${raw}"`, {
      hint: `Give ${from} a whole number from 0 to ${MAX_POOL_SIZE} (0 turns the seed pool off).`,
    });
  }
  return value;
}

function whole(value: number | undefined, what: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`;
    throw new DbfastError('USAGE', `${what} must be a whole number ${range}, not ${value}`, { hint: `Pass createPool({ ${what} }) a whole number ${range}, or leave it out for the [pool] setting.` });
  }
  return value;
}

/** `DBFAST_POOL_SIZE` (e.g. 0 in CI, to make `dbfast seed` leave no ready database and start no refill). */
function sizeFromEnv(env: NodeJS.ProcessEnv): number | undefined {
  const raw = env.DBFAST_POOL_SIZE;
  if (raw === undefined || raw === '') return undefined;
  return parsePoolSize(raw, 'DBFAST_POOL_SIZE');
}

/** Options > DBFAST_POOL_SIZE > `[environments.NAME.pool] size` > `[pool]` > defaults. */
export function poolNumbers(config: DbfastConfig, environment: string, overrides: PoolNumberOverrides = {}, env: NodeJS.ProcessEnv = config.env): PoolNumbers {
  const file = config.pool;
  const size =
    whole(overrides.size, 'size', 0, MAX_POOL_SIZE) ?? sizeFromEnv(env) ?? config.environments[environment]?.pool?.size ?? file.size ?? DEFAULT_POOL_SIZE;
  const maxClones = whole(overrides.maxClones, 'maxClones', 1) ?? file.max_clones ?? DEFAULT_MAX_CLONES;
  const leaseTimeoutMs = overrides.leaseTimeoutMs ?? (file.lease_timeout_seconds === undefined ? DEFAULT_LEASE_TIMEOUT_MS : file.lease_timeout_seconds * 1000);
  if (!(leaseTimeoutMs > 0)) throw new DbfastError('USAGE', `leaseTimeoutMs must be positive, not ${leaseTimeoutMs}`, { hint: 'Pass a number of milliseconds greater than 0, or leave it out for [pool] lease_timeout_seconds (60 s by default).' });
  return { size, maxClones, leaseTimeoutMs };
}
