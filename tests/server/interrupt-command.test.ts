import { describe, expect, it } from 'vitest';
import type { ServerStatus } from '../../src/index.js';
import { tempDir } from '../support/files.js';
import { startCli, waitUntil } from '../support/interrupt.js';
import { cli, cliJson, managedEnv, serverDir, sql, writeManagedProject } from './support.js';

/** The managed server as `server status` sees it (never starts it). */
async function serverState(root: string): Promise<ServerStatus> {
  return cliJson<ServerStatus>(root, ['server', 'status']);
}

/**
 * Ctrl-C in a terminal: SIGINT to the whole foreground process group, dbfast and every child it
 * spawned. The managed server is detached (its own session): it must not hear it, and the
 * interrupted command must not say that it went away.
 */
describe('Ctrl-C during a seed or build on the managed server', () => {
  const cases = [
    { args: ['seed', '--output', 'interrupted'], serverBefore: false },
    { args: ['build'], serverBefore: true },
  ];
  for (const { args, serverBefore } of cases) {
    const how = serverBefore ? 'the server already running' : 'the server started by the command itself';
    it(`dbfast ${args.join(' ')} (${how}): exits 130, says nothing of a shutdown, and the server still answers`, async () => {
      const root = serverDir();
      const project = writeManagedProject(tempDir(), { files: { 'db/1_seed_common/002_slow.sql': 'SELECT pg_sleep(60);\n' } });
      if (serverBefore) await cliJson(root, ['server', 'start']);
      const running = startCli({ dir: project, backupDir: '', env: {} }, args, { ...managedEnv(root), DBFAST_BACKGROUND: 'wait' });
      let url = '';
      await waitUntil('the slow file to run on the managed server', async () => {
        const state = await serverState(root);
        if (!state.running || !state.server) return false;
        url = state.server.url;
        const rows = await sql<{ n: number }>(url, "SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE '%pg_sleep(60)%' AND pid <> pg_backend_pid()");
        return rows[0]?.n === 1;
      }, { running });
      const before = await serverState(root);
      process.kill(-(running.child.pid as number), 'SIGINT');
      const exit = await running.exited;
      const output = running.stderr() + running.stdout();
      expect(exit.code, output).toBe(130);
      expect(output).toContain('interrupted (SIGINT)');
      expect(output).not.toMatch(/shut ?down|SERVER_SHUT_DOWN|terminat/i);
      // Still the same postmaster, answering.
      const after = await serverState(root);
      expect(after).toMatchObject({ running: true, pid: before.pid });
      expect(await sql<{ one: number }>(url, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
      // Nothing of the interrupted run is left once the next command has cleaned up.
      const next = await cli(root, ['status', '--check'], { cwd: project, extraEnv: { DBFAST_BACKGROUND: 'wait' } });
      expect(next.exitCode, next.stderr).toBe(3);
      await waitUntil('no side database left', async () => (await sql<{ n: number }>(url, "SELECT count(*)::int AS n FROM pg_database WHERE datname LIKE '%\\_\\_dbfast\\_%'"))[0]?.n === 0);
    });
  }
});
