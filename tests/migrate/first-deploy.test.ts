import { describe, expect, it } from 'vitest';
import { query, remote, uniqueName, urlFor } from '../support/db.js';
import { cli, createRemoteAccount, trackRemoteDatabase } from '../support/backup.js';
import { writeDeployProject } from '../support/deploy.js';
import { FIRST, json } from '../support/migrate.js';
import { remoteDatabaseExists } from '../support/interrupt.js';

interface DeployBody {
  result: string;
  mode: string;
  migrations: string[];
  deployId: string;
  backupId: string | null;
  phases: Array<{ name: string }>;
  plan?: { mode: string; replaces: string; backup: string; steps: string[]; checks: Array<{ name: string; ok: boolean }>; migrations: string[] };
}

describe('the first deploy to a remote whose database does not exist (migrate mode; issue 10.7)', () => {
  it('the dry run says the database will be created from the template; the deploy creates it with its migrations recorded as applied', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'first' });
    const database = uniqueName('first_new');
    trackRemoteDatabase(database);
    for (const suffix of ['__dbfast_new', '__dbfast_prev']) trackRemoteDatabase(`${database}${suffix}`);
    const url = new URL(account.url);
    url.pathname = `/${database}`;
    const project = writeDeployProject([{ name: 'production', account: { ...account, url: url.toString() }, environment: 'production', allowDestructive: false }]);

    const dry = await json<DeployBody>(project, ['deploy', '--remote', 'production', '--dry-run']);
    expect(dry.body).toMatchObject({ result: 'dry_run', mode: 'migrate' });
    expect(dry.body.plan?.replaces).toMatch(new RegExp(`database "${database}" does not exist: it is created from the template`));
    expect(dry.body.plan?.backup).toMatch(/^no/);
    expect(dry.body.plan?.checks.every((c) => c.ok || c.name === 'ssl')).toBe(true);
    expect(dry.body.plan?.steps.join('\n')).toMatch(new RegExp(`record ${FIRST.replaceAll('.', '\\.')} as applied`));
    expect(dry.body.migrations).toEqual([]);
    const human = await cli(project, ['deploy', '--remote', 'production', '--dry-run']);
    expect(human.stdout).toContain('is created from the template');
    expect(await remoteDatabaseExists(database)).toBe(false);

    const { body } = await json<DeployBody>(project, ['deploy', '--remote', 'production', '--confirm']);
    expect(body).toMatchObject({ result: 'success', mode: 'migrate', backupId: null, migrations: [], created: { migrationsRecorded: [FIRST] } });
    expect(body.phases.map((p) => p.name)).toEqual(['preflight', 'build', 'restore', 'validate', 'swap', 'verify']);
    const db = urlFor(remote.adminUrl, database);
    expect(await query(db, "SELECT to_regclass('app.product') IS NOT NULL AS ok")).toEqual([{ ok: true }]);
    expect(await query(db, 'SELECT id, status, run_id FROM dbfast.migrations')).toEqual([{ id: FIRST, status: 'success', run_id: body.deployId }]);
    const status = await json<{ applied: string[]; pending: string[] }>(project, ['migrate', 'status', '--remote', 'production']);
    expect(status.body).toMatchObject({ applied: [FIRST], pending: [] });
    const history = await json<{ deploys: Array<{ kind: string; result: string }> }>(project, ['history', '--remote', 'production']);
    expect(history.body.deploys.map((d) => [d.kind, d.result])).toEqual([['deploy', 'success']]);

    // From now on it is an ordinary migrate deploy.
    const again = await json<DeployBody>(project, ['deploy', '--remote', 'production', '--confirm']);
    expect(again.body).toMatchObject({ mode: 'migrate', migrations: [] });
    expect(again.body.phases.map((p) => p.name)).toEqual(['preflight', 'validate']);
  });
});
