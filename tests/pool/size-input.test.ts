import { describe, expect, it } from 'vitest';
import { parseJson, runCli } from '../support/cli.js';
import { local, query } from '../support/db.js';
import { poolProject } from './support.js';

const env = { DBFAST_CONFIG: undefined, DBFAST_POOL_SIZE: undefined };

describe('a pool size is read one way, whichever input gives it (0 to 64, digits only)', () => {
  it('`pool fill --size` refuses 65, 1.5 and 1e1 before doing anything (usage, exit 2)', async () => {
    const project = poolProject('max_clones = 200\nsize = 0');
    for (const size of ['65', '1.5', '1e1', '0x2']) {
      const result = await runCli(['--json', 'pool', 'fill', '--size', size], { cwd: project.dir, env });
      expect(result.exitCode, `--size ${size}: ${result.stdout}${result.stderr}`).toBe(2);
      expect(result.stdout + result.stderr).toContain('Expected a whole number from 0 to 64');
    }
    // Nothing was built: the refusal came before any work.
    expect(await query(local.adminUrl, 'SELECT 1 AS found FROM pg_database WHERE datname = $1', [project.template()])).toEqual([]);
  });

  it('DBFAST_POOL_SIZE=1.5, 1e1 or 65 is refused by `seed` as by `pool status`, before seeding', async () => {
    const project = poolProject('max_clones = 200\nsize = 0');
    const output = `${project.templateName}_c_sizeenv`;
    for (const size of ['1.5', '1e1', '65']) {
      for (const args of [['pool', 'status'], ['seed', '-o', output]]) {
        const result = await runCli(['--json', ...args], { cwd: project.dir, env: { ...env, DBFAST_POOL_SIZE: size } });
        expect(result.exitCode, `${args.join(' ')} with ${size}: ${result.stdout}${result.stderr}`).toBe(2);
        expect(parseJson<{ error: { code: string; message: string } }>(result).error).toMatchObject({
          code: 'CONFIG_INVALID',
          message: `DBFAST_POOL_SIZE must be a whole number from 0 to 64, not "${size}"`,
        });
      }
    }
    expect(await query(local.adminUrl, 'SELECT 1 AS found FROM pg_database WHERE datname = $1', [output])).toEqual([]);
  });
});
