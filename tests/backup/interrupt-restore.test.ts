import { describe, expect, it } from 'vitest';
import { parseJson } from '../support/cli.js';
import { query } from '../support/db.js';
import { asAccount, cli, cliJson, createRemoteAccount, seedShop, writeProject } from '../support/backup.js';
import { startCli, waitUntil } from '../support/interrupt.js';

interface HistoryJson {
  deploys: Array<{ kind: string; result: string; error: string | null; backupId: string | null; phases: Array<{ name: string }> }>;
}

describe('a backup restore interrupted with Ctrl-C once the swap is reported (issue 9, item 13 family)', () => {
  it('exits 130, says what is live, and records the restore as interrupted (remote and local)', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'rsint' });
    await seedShop(account, 30);
    const project = writeProject([{ name: 'staging', account }]);
    const created = await cliJson<{ backup: { id: string } }>(project, ['backup', 'create', '--remote', 'staging']);
    await asAccount(account, 'DELETE FROM shop.purchase; CREATE TABLE shop.added_later (x int)');
    const running = startCli(project, ['backup', 'restore', '--remote', 'staging', '--backup-id', 'latest', '--confirm']);
    await waitUntil('the swap starts', () => /^swap\b/m.test(running.stderr()), { running, timeoutMs: 120_000 });
    process.kill(running.child.pid as number, 'SIGINT');
    const exit = await running.exited;
    const stderr = running.stderr();
    expect(exit.code, stderr).toBe(130);
    // The backup is live: what it holds, not what the database held when the restore started.
    expect((await query<{ n: number }>(account.adminDbUrl, 'SELECT count(*)::int AS n FROM shop.purchase'))[0]?.n).toBeGreaterThan(0);
    expect(await query(account.adminDbUrl, "SELECT 1 FROM pg_tables WHERE schemaname = 'shop' AND tablename = 'added_later'")).toEqual([]);
    const lastLine = stderr.trim().split('\n').at(-1) ?? '';
    const live = new RegExp(`interrupted \\(SIGINT\\) during swap: the new database is live as "${account.database}" \\(backup ${created.backup.id}\\); the one it replaced is kept as "${account.database}__dbfast_prev"`);
    expect(lastLine).toMatch(live);
    for (const where of [[], ['--local']]) {
      const history = parseJson<HistoryJson>(await cli(project, ['--json', 'history', '--remote', 'staging', ...where]));
      const restore = history.deploys.find((d) => d.kind === 'restore');
      expect(restore, where.join(' ')).toMatchObject({ kind: 'restore', result: 'interrupted', backupId: created.backup.id });
      expect(restore?.error).toMatch(live);
    }
    const status = parseJson<{ lastEvent: { kind: string; result: string } }>(await cli(project, ['--json', 'status', '--remote', 'staging']));
    expect(status.lastEvent).toMatchObject({ kind: 'restore', result: 'interrupted' });
  });
});
