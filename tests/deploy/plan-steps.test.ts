import { describe, expect, it } from 'vitest';
import type { DbfastConfig, RemoteConfig } from '../../src/config/types.js';
import { missingEnv, resolveHooks } from '../../src/deploy/hooks.js';
import { planSteps, type StepsInput } from '../../src/deploy/plan.js';

const base: StepsInput = {
  kind: 'replace',
  database: 'shop',
  exists: true,
  mode: 'swap',
  templateName: 'shop_staging',
  templateFresh: true,
  backup: true,
  backupDir: 'backups/staging/',
  validateQueries: 0,
  migrations: [],
  thenApply: [],
  preSteps: ['pre hook: a'],
  postSteps: ['post hook: b'],
};

describe('planSteps (pure: what a dry run lists)', () => {
  const cases: Array<{ name: string; input: Partial<StepsInput>; contains: string[]; lacks?: string[] }> = [
    { name: 'replace by swap', input: {}, contains: ['use the fresh template shop_staging', 'back up "shop" to backups/staging/ and verify it', 'restore into "shop__dbfast_new", ANALYZE it, check schema, row counts', 'swap: "shop" becomes "shop__dbfast_prev"'] },
    { name: 'a stale template is built', input: { templateFresh: false }, contains: ['build the template shop_staging'] },
    { name: 'validate queries are counted', input: { validateQueries: 2 }, contains: ['row counts and 2 validate queries'] },
    { name: 'in place', input: { mode: 'in-place' }, contains: ['replace the schemas of "shop" in place, in one transaction'], lacks: ['swap:'] },
    { name: 'no database yet: no backup, a rename', input: { exists: false }, contains: ['no backup', 'create "shop": rename "shop__dbfast_new" to it'] },
    { name: 'no backup configured', input: { backup: false }, contains: ['no backup'] },
    { name: 'migrate mode', input: { kind: 'migrate', migrations: ['m1', 'm2'], validateQueries: 1 }, contains: ['lock database "shop"', 'apply 2 migration(s), each in its own transaction: m1, m2', 'run 1 validate query'] },
    { name: 'migrate mode, nothing pending', input: { kind: 'migrate' }, contains: ['no pending migrations', 'no validate queries'] },
    { name: 'first migrate deploy', input: { kind: 'create', exists: false, migrations: ['m1'], thenApply: ['m2'] }, contains: ['create "shop"', 'record m1 as applied (the template has them)', 'then apply 1 migration(s) the template does not have: m2'] },
  ];
  for (const t of cases) {
    it(t.name, () => {
      const steps = planSteps({ ...base, ...t.input });
      const text = steps.join('\n');
      for (const part of t.contains) expect(text).toContain(part);
      for (const part of t.lacks ?? []) expect(text).not.toContain(part);
      // Hooks run around the change, and the record is always last.
      expect(steps.indexOf('pre hook: a')).toBeLessThan(steps.indexOf('post hook: b'));
      expect(steps.at(-1)).toMatch(/^record the deploy/);
    });
  }
});

describe('resolveHooks (pure: [deploy] then the remote\'s)', () => {
  const config = (deploy: DbfastConfig['deploy']): DbfastConfig => ({ deploy } as DbfastConfig);
  const remote = (deploy: RemoteConfig['deploy']): RemoteConfig => ({ deploy } as RemoteConfig);
  const cases: Array<{ name: string; global: DbfastConfig['deploy']; own: RemoteConfig['deploy']; expected: ReturnType<typeof resolveHooks> }> = [
    { name: 'nothing configured', global: {}, own: {}, expected: { pre: [], post: [], requiredEnv: [], postFailure: 'rollback', timeoutSeconds: 600 } },
    { name: 'lists: global first, then the remote\'s', global: { pre: ['g1'], post: ['g2'] }, own: { pre: ['r1'], post: ['r2'] }, expected: { pre: ['g1', 'r1'], post: ['g2', 'r2'], requiredEnv: [], postFailure: 'rollback', timeoutSeconds: 600 } },
    { name: 'required_env: the union, once each', global: { required_env: ['A', 'B'] }, own: { required_env: ['B', 'C'] }, expected: { pre: [], post: [], requiredEnv: ['A', 'B', 'C'], postFailure: 'rollback', timeoutSeconds: 600 } },
    { name: 'single values: the remote wins', global: { post_failure: 'warn', timeout_seconds: 10 }, own: { post_failure: 'rollback', timeout_seconds: 20 }, expected: { pre: [], post: [], requiredEnv: [], postFailure: 'rollback', timeoutSeconds: 20 } },
    { name: 'single values: else the global ones', global: { post_failure: 'warn', timeout_seconds: 10 }, own: {}, expected: { pre: [], post: [], requiredEnv: [], postFailure: 'warn', timeoutSeconds: 10 } },
  ];
  for (const t of cases) it(t.name, () => expect(resolveHooks(config(t.global), remote(t.own))).toEqual(t.expected));

  it('missingEnv lists unset and empty variables in the configured order', () => {
    const hooks = resolveHooks(config({ required_env: ['A', 'B', 'C'] }), remote({}));
    expect(missingEnv(hooks, { A: 'x', B: '' })).toEqual(['B', 'C']);
  });
});
