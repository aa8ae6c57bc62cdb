import { describe, expect, it } from 'vitest';
import { FIRST, migrationRows, productionProject } from '../support/migrate.js';
import { cli } from '../support/backup.js';
import { remote } from '../support/db.js';
import { runInTerminal, screen } from '../support/terminal.js';

/*
 * Confirmation on a terminal: the library refuses an unconfirmed change to a production remote;
 * the CLI then names what would be replaced (server, database, its size) and goes on when the
 * person types "yes", as the README says.
 */

const PROMPT = /Type "yes" to go on:/;

describe('the confirmation prompt', () => {
  it('names the server, database and size, and goes on when the answer is "yes"', async () => {
    const { account, project } = await productionProject({ prefix: 'cfy', remote: { backup: false } });
    const run = await runInTerminal(['migrate', 'mark-applied', '--remote', 'production', FIRST], {
      cwd: project.dir,
      env: project.env,
      answer: { when: PROMPT, text: 'yes' },
    });
    expect(run.exitCode, run.output).toBe(0);
    const port = new URL(remote.adminUrl).port || '5432';
    const question = screen(run.output).find((line) => line.startsWith('Mark migrations applied in'));
    expect(question).toMatch(new RegExp(`^Mark migrations applied in database "${account.database}" \\([\\d.]+ (KiB|MiB) now\\) on server (127\\.0\\.0\\.1|localhost):${port}, remote production \\(environment production\\)\\.$`));
    expect(run.output).toContain('marked as applied (baseline) on remote "production"');
    expect((await migrationRows(account)).map((row) => [row.id, row.status])).toEqual([[FIRST, 'baseline']]);
  });

  it('refuses any other answer (exit 2, nothing written), and without a terminal refuses with the --confirm hint', async () => {
    const { account, project } = await productionProject({ prefix: 'cfn', remote: { backup: false } });
    const run = await runInTerminal(['migrate', 'mark-applied', '--remote', 'production', FIRST], {
      cwd: project.dir,
      env: project.env,
      answer: { when: PROMPT, text: 'production' },
    });
    expect(run.exitCode, run.output).toBe(2);
    expect(screen(run.output).find((line) => line.startsWith('error:'))).toBe('error: not confirmed (the answer was not "yes"); nothing was changed');
    const piped = await cli(project, ['migrate', 'mark-applied', '--remote', 'production', FIRST]);
    expect(piped.exitCode).toBe(2);
    expect(piped.stderr).toMatch(/needs confirmation/);
    expect(piped.stderr).toMatch(/hint: .*--confirm/);
    expect(await migrationRows(account)).toEqual([]);
  });
});
